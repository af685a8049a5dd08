package dev.capgate.sidecar.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.GitPush;
import java.util.List;
import org.junit.jupiter.api.Test;

class PushRulesTest {
  static final String Z = "0".repeat(40);
  static final String A = "a".repeat(40);
  static final String B = "b".repeat(40);

  static PushRules rules(Boolean create, Boolean update, Boolean delete, String... refs) {
    return new PushRules("r", new GitPush(List.of(refs), create, update, delete));
  }

  static String refused(PushRules rules, RefUpdate... updates) {
    PushRules.Refusal refusal = rules.judge(List.of(updates));
    return refusal == null ? null : refusal.ref() + ": " + refusal.reason();
  }

  @Test
  void refs_are_matched_by_segment_patterns() {
    PushRules rules = rules(null, null, null, "refs/heads/agent/**", "refs/heads/feature/*");
    assertThat(refused(rules, new RefUpdate(Z, A, "refs/heads/agent/x"))).isNull();
    assertThat(refused(rules, new RefUpdate(Z, A, "refs/heads/agent/a/b/c"))).isNull();
    assertThat(refused(rules, new RefUpdate(Z, A, "refs/heads/feature/one"))).isNull();
    assertThat(refused(rules, new RefUpdate(Z, A, "refs/heads/feature/one/two")))
        .isEqualTo("refs/heads/feature/one/two: ref not allowed by rule 'r'");
    assertThat(refused(rules, new RefUpdate(Z, A, "refs/heads/agentx"))).isNotNull();
    assertThat(refused(rules, new RefUpdate(Z, A, "refs/heads/main"))).isNotNull();
    assertThat(refused(rules, new RefUpdate(Z, A, "refs/tags/v1"))).isNotNull();
  }

  @Test
  void defaults_allow_create_and_update_and_refuse_delete() {
    PushRules rules = rules(null, null, null, "refs/heads/agent/**");
    assertThat(refused(rules, new RefUpdate(Z, A, "refs/heads/agent/x"))).isNull();
    assertThat(refused(rules, new RefUpdate(A, B, "refs/heads/agent/x"))).isNull();
    assertThat(refused(rules, new RefUpdate(A, Z, "refs/heads/agent/x")))
        .isEqualTo("refs/heads/agent/x: deleting refs is not allowed by rule 'r'");
  }

  @Test
  void each_kind_can_be_switched() {
    PushRules rules = rules(false, false, true, "refs/heads/agent/**");
    assertThat(refused(rules, new RefUpdate(Z, A, "refs/heads/agent/x")))
        .contains("creating refs is not allowed");
    assertThat(refused(rules, new RefUpdate(A, B, "refs/heads/agent/x")))
        .contains("updating existing refs is not allowed");
    assertThat(refused(rules, new RefUpdate(A, Z, "refs/heads/agent/x"))).isNull();
  }

  @Test
  void the_first_refused_command_refuses_the_push() {
    PushRules rules = rules(null, null, null, "refs/heads/agent/**");
    assertThat(
            refused(
                rules,
                new RefUpdate(Z, A, "refs/heads/agent/x"),
                new RefUpdate(A, B, "refs/heads/main")))
        .startsWith("refs/heads/main:");
  }

  @Test
  void moves_need_a_fast_forward_proof_unless_the_rule_allows_force_pushes() {
    List<RefUpdate> push =
        List.of(
            new RefUpdate(Z, A, "refs/heads/agent/new"),
            new RefUpdate(A, B, "refs/heads/agent/moved"),
            new RefUpdate(B, Z, "refs/heads/agent/gone"));
    PushRules strict = rules(null, null, true, "refs/heads/agent/**");
    assertThat(strict.needingFastForward(push)).containsExactly(push.get(1));
    assertThat(strict.maxPackBytes()).isEqualTo(64 * 1024 * 1024);
    assertThat(strict.possibleForcePush(push.get(1), "x does not descend from y").reason())
        .isEqualTo(
            "possible force-push: x does not descend from y; fetch and merge first or ask for"
                + " forcePush on rule 'r'");
    PushRules force =
        new PushRules(
            "r", new GitPush(List.of("refs/heads/agent/**"), null, null, null, true, 1024));
    assertThat(force.needingFastForward(push)).isEmpty();
    assertThat(force.maxPackBytes()).isEqualTo(1024);
  }
}
