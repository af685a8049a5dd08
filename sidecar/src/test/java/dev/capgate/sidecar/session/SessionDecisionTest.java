package dev.capgate.sidecar.session;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionBuilder.RuleBuilder;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.sidecar.policy.NormalizedRequest;
import dev.capgate.sidecar.session.SessionDecision.Deny;
import dev.capgate.sidecar.session.SessionDecision.Enforce;
import dev.capgate.sidecar.session.SessionDecision.Verdict;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What each observed state of the AgentSession means for traffic. */
class SessionDecisionTest {
  private static final Instant CREATED = Instant.parse("2026-01-01T10:00:00Z");
  private static final String UID = "uid-1";

  private static ObservedSession session(String ttl, Phase phase, RuleBuilder egress) {
    return session(ttl, phase, egress, null);
  }

  private static ObservedSession session(
      String ttl, Phase phase, RuleBuilder egress, String deletionTimestamp) {
    return new ObservedSession(
        "agents",
        "fix-42",
        UID,
        3,
        CREATED.toString(),
        deletionTimestamp,
        "1",
        AgentSessionBuilder.session("fix-42")
            .user("alice@example.com")
            .agent("coding-agent")
            .ttl(ttl)
            .egress(egress)
            .spec(),
        phase);
  }

  private static ObservedSession session(String ttl, Phase phase) {
    return session(ttl, phase, rule("api").hosts("api.example.com"));
  }

  @Test
  void an_active_session_is_enforced_until_creation_plus_ttl() {
    Verdict verdict =
        SessionDecision.decide(session("2h", Phase.Active), UID, CREATED.plusSeconds(60));

    assertThat(verdict)
        .isInstanceOfSatisfying(
            Enforce.class,
            e -> {
              assertThat(e.expiresAt()).isEqualTo(CREATED.plusSeconds(7200));
              assertThat(e.generation()).isEqualTo(3);
              assertThat(
                      e.policy()
                          .onRequest(
                              new NormalizedRequest(
                                  "GET", "api.example.com", 443, "/", "/", null, true))
                          .allowed())
                  .isTrue();
            });
  }

  @Test
  void an_active_session_without_ttl_never_expires_by_itself() {
    assertThat(
            SessionDecision.decide(
                session(null, Phase.Active), UID, CREATED.plusSeconds(86_400 * 365)))
        .isInstanceOfSatisfying(Enforce.class, e -> assertThat(e.expiresAt()).isNull());
  }

  @Test
  void a_session_the_operator_has_not_reconciled_yet_is_denied_but_not_ended() {
    assertThat(SessionDecision.decide(session(null, null), null, CREATED))
        .isEqualTo(
            new Deny(
                "the AgentSession agents/fix-42 is not yet reconciled: waiting for the operator to mark it Active",
                false));
    assertThat(SessionDecision.decide(session(null, Phase.Pending), UID, CREATED))
        .isInstanceOfSatisfying(Deny.class, d -> assertThat(d.terminal()).isFalse());
  }

  @Test
  void phases_revoked_and_expired_end_the_session() {
    assertThat(SessionDecision.decide(session(null, Phase.Revoked), UID, CREATED))
        .isEqualTo(new Deny("the AgentSession agents/fix-42 is Revoked", true));
    assertThat(SessionDecision.decide(session(null, Phase.Expired), UID, CREATED))
        .isEqualTo(new Deny("the AgentSession agents/fix-42 is Expired", true));
  }

  @Test
  void past_creation_plus_ttl_the_session_ends_even_if_the_phase_still_says_active() {
    assertThat(SessionDecision.decide(session("30m", Phase.Active), UID, CREATED.plusSeconds(1800)))
        .isEqualTo(
            new Deny(
                "the AgentSession agents/fix-42 expired at 2026-01-01T10:30:00Z (creation + spec.ttl)",
                true));
  }

  @Test
  void a_session_being_deleted_ends_at_once() {
    ObservedSession deleting =
        session(
            null,
            Phase.Active,
            rule("api").hosts("api.example.com"),
            CREATED.plusSeconds(5).toString());

    assertThat(SessionDecision.decide(deleting, UID, CREATED.plusSeconds(5)))
        .isInstanceOfSatisfying(Deny.class, d -> assertThat(d.terminal()).isTrue());
  }

  @Test
  void a_re_created_session_of_the_same_name_is_another_session() {
    assertThat(
            SessionDecision.decide(session(null, Phase.Active), "uid-of-the-deleted-one", CREATED))
        .isInstanceOfSatisfying(
            Deny.class,
            d -> {
              assertThat(d.terminal()).isTrue();
              assertThat(d.reason()).contains("re-created");
            });
  }

  @Test
  void an_invalid_spec_is_denied_with_its_violations_and_can_be_fixed() {
    ObservedSession invalid = session(null, Phase.Active, rule("api").hosts("API.example.com"));

    assertThat(SessionDecision.decide(invalid, UID, CREATED))
        .isInstanceOfSatisfying(
            Deny.class,
            d -> {
              assertThat(d.terminal()).isFalse();
              assertThat(d.reason())
                  .startsWith("invalid AgentSession spec: ")
                  .contains("spec.egress[0].hosts");
            });
  }
}
