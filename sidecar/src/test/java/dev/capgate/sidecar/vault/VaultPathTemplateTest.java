package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.sidecar.policy.SessionIdentity;
import org.junit.jupiter.api.Test;

/**
 * The sidecar's side of the path rules: each placeholder gets the session's own value. The rules
 * themselves (safe segments, unknown placeholders, dot segments) are the API's and are tested once,
 * in crds' {@code VaultPathsTest}.
 */
class VaultPathTemplateTest {
  @Test
  void each_placeholder_gets_the_sessions_value() {
    SessionIdentity session =
        new SessionIdentity("agents", "fix-issue-42", "alice@example.com", "coding-agent", null);

    assertThat(
            VaultPathTemplate.render(
                "secret/data/{{namespace}}/{{session}}/{{agent}}/{{user}}", session))
        .isEqualTo("secret/data/agents/fix-issue-42/coding-agent/alice@example.com");
  }

  @Test
  void a_session_value_that_is_not_one_safe_segment_is_refused() {
    SessionIdentity session = new SessionIdentity("agents", "s", "../admin", "coding-agent", null);

    assertThatThrownBy(() -> VaultPathTemplate.render("secret/data/github/{{user}}", session))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("{{user}}")
        .hasMessageNotContaining("../admin");
  }

  @Test
  void a_value_is_used_only_where_its_placeholder_is() {
    // The agent field may not be path-safe, yet a template that does not use it still works.
    SessionIdentity session = new SessionIdentity("agents", "s", "alice", "../x", null);

    assertThat(VaultPathTemplate.render("secret/data/{{user}}", session))
        .isEqualTo("secret/data/alice");
  }
}
