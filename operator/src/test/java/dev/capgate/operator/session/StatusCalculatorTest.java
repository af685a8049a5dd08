package dev.capgate.operator.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.Phase;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class StatusCalculatorTest {
  private static final Instant CREATED = Instant.parse("2025-06-01T12:00:00Z");

  @Test
  void aValidSessionIsActiveUntilItsTtlRunsOut() {
    AgentSession session = session("2h", "/repos/acme/**");
    var outcome = StatusCalculator.compute(session, 3, CREATED.plusSeconds(60));
    assertThat(outcome.status().phase()).isEqualTo(Phase.Active);
    assertThat(outcome.status().expiresAt()).isEqualTo("2025-06-01T14:00:00Z");
    assertThat(outcome.status().pods()).isEqualTo(3);
    assertThat(outcome.status().observedGeneration()).isEqualTo(4L);
    assertThat(outcome.nextChange()).contains(Instant.parse("2025-06-01T14:00:00Z"));
    assertThat(outcome.status().conditions().getFirst().getReason()).isEqualTo("Active");
  }

  @Test
  void atCreationPlusTtlItExpiresForGood() {
    var outcome =
        StatusCalculator.compute(session("2h", "/x"), 0, Instant.parse("2025-06-01T14:00:00Z"));
    assertThat(outcome.status().phase()).isEqualTo(Phase.Expired);
    assertThat(outcome.status().conditions())
        .extracting(c -> c.getType() + "=" + c.getStatus() + "/" + c.getReason())
        .containsExactly("Ready=False/Expired", "Expired=True/Expired");
    assertThat(outcome.nextChange()).isEmpty();
  }

  @Test
  void anInvalidSpecStaysPendingWithItsViolations() {
    var outcome = StatusCalculator.compute(session(null, "/a/../b"), 0, CREATED);
    assertThat(outcome.status().phase()).isEqualTo(Phase.Pending);
    var ready = outcome.status().conditions().getFirst();
    assertThat(ready.getReason()).isEqualTo("InvalidSpec");
    assertThat(ready.getMessage()).contains("spec.egress[0].paths");
    assertThat(outcome.nextChange()).isEmpty();
  }

  @Test
  void anUnchangedConditionKeepsItsTransitionTime() {
    AgentSession session = session("2h", "/x");
    session.setStatus(StatusCalculator.compute(session, 0, CREATED).status());
    var later = StatusCalculator.compute(session, 0, CREATED.plusSeconds(600));
    assertThat(later.status()).isEqualTo(session.getStatus());
  }

  /** From YAML, as users write it: the API records grow fields, YAML stays readable. */
  private static AgentSession session(String ttl, String path) {
    AgentSession session =
        new KubernetesSerialization()
            .unmarshal(
                """
        apiVersion: capgate.dev/v1alpha1
        kind: AgentSession
        metadata: {name: fix-42, namespace: agents, generation: 4, creationTimestamp: "%s"}
        spec:
          user: alice@example.com
          agent: coding-agent
          %s
          egress:
          - {name: api, hosts: [api.github.com], paths: ["%s"]}
        """
                    .formatted(CREATED, ttl == null ? "" : "ttl: " + ttl, path),
                AgentSession.class);
    return session;
  }
}
