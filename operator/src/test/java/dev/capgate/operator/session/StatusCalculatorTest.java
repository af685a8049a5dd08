package dev.capgate.operator.session;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Phase;
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

  /** The fix-42 session in agents, generation 4, created at CREATED. */
  private static AgentSession session(String ttl, String path) {
    AgentSession session =
        AgentSessionBuilder.session("fix-42")
            .namespace("agents")
            .user("alice@example.com")
            .agent("coding-agent")
            .ttl(ttl)
            .egress(rule("api").hosts("api.github.com").paths(path))
            .build();
    session.getMetadata().setGeneration(4L);
    session.getMetadata().setCreationTimestamp(CREATED.toString());
    return session;
  }
}
