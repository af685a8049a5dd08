package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.sidecar.policy.SessionIdentity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class VaultPathTemplateTest {
  private static SessionIdentity user(String user) {
    return new SessionIdentity("agents", "fix-issue-42", user, "coding-agent", null);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "secret/data/github/{{user}}, secret/data/github/alice@example.com",
    "secret/data/{{namespace}}/{{session}}/{{agent}}, secret/data/agents/fix-issue-42/coding-agent",
    "secret/data/{{user}}/{{user}}, secret/data/alice@example.com/alice@example.com",
    "secret/data/static, secret/data/static"
  })
  void fills_the_placeholders(String template, String path) {
    assertThat(VaultPathTemplate.render(template, user("alice@example.com"))).isEqualTo(path);
  }

  @ParameterizedTest(name = "user ''{0}'' is refused")
  @ValueSource(
      strings = {
        "../admin",
        "..",
        ".",
        "a/b",
        "alice/../../admin",
        "a..b",
        "alice bob",
        "alice%2fbob",
        "alice{{agent}}",
        "",
        "al\nice",
        "alice?x",
        "alice#x",
        "\u00e9lise"
      })
  void refuses_values_that_are_not_one_safe_segment(String value) {
    assertThatThrownBy(() -> VaultPathTemplate.render("secret/data/github/{{user}}", user(value)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("{{user}}");
  }

  @Test
  void refuses_a_missing_value() {
    assertThatThrownBy(() -> VaultPathTemplate.render("secret/data/github/{{user}}", user(null)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "template ''{0}'' is refused")
  @ValueSource(
      strings = {
        "secret/data/{{project}}",
        "secret/data/{{ user }}",
        "secret/../sys/raw",
        "secret/./data",
        "secret//data",
        "/secret/data",
        "secret/data/"
      })
  void refuses_unknown_placeholders_and_dot_or_empty_segments(String template) {
    assertThatThrownBy(() -> VaultPathTemplate.render(template, user("alice")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void a_value_is_used_only_where_its_placeholder_is() {
    // The agent field may not be path-safe, yet a template that does not use it still works.
    SessionIdentity session = new SessionIdentity("agents", "s", "alice", "../x", null);

    assertThat(VaultPathTemplate.render("secret/data/{{user}}", session))
        .isEqualTo("secret/data/alice");
  }
}
