package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionStatus;
import dev.capgate.api.v1alpha1.AgentSessionValidator;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.api.v1alpha1.Violation;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A session's status from its spec, its age and its pods, as a pure function (no clock, no API).
 *
 * <p>An invalid spec stays {@code Pending} with {@code Ready=False, reason InvalidSpec} and the
 * violations in the message: the sidecars deny anything but {@code Active}, and fixing the spec
 * makes it Active without recreating it. Past creation + ttl it is {@code Expired} ({@code
 * Ready=False, reason Expired}) for good.
 */
public final class StatusCalculator {
  public static final String READY = "Ready";
  public static final String EXPIRED = "Expired";
  public static final String REVOKED = "Revoked";
  public static final String REASON_ACTIVE = "Active";
  public static final String REASON_INVALID = "InvalidSpec";
  public static final String REASON_EXPIRED = "Expired";
  public static final String REASON_REVOKED = "Revoked";

  private StatusCalculator() {}

  /**
   * @param nextChange when this status changes by itself (the expiry), if ever
   */
  public record Outcome(AgentSessionStatus status, Optional<Instant> nextChange) {}

  public static Outcome compute(AgentSession session, int boundPods, Instant now) {
    Optional<Instant> expiresAt = SessionExpiry.of(session);
    List<Violation> violations = AgentSessionValidator.validate(session.getSpec());
    Long generation = session.getMetadata().getGeneration();
    List<Condition> previous =
        session.getStatus() == null || session.getStatus().conditions() == null
            ? List.of()
            : session.getStatus().conditions();
    boolean expired = expiresAt.isPresent() && !expiresAt.get().isAfter(now);

    Phase phase;
    List<Condition> conditions = new ArrayList<>();
    if (expired) {
      phase = Phase.Expired;
      conditions.add(
          condition(
              previous,
              READY,
              false,
              REASON_EXPIRED,
              "the session expired at "
                  + expiresAt.get()
                  + " (creation + spec.ttl): sidecars deny every request",
              generation,
              now));
      conditions.add(
          condition(
              previous,
              EXPIRED,
              true,
              REASON_EXPIRED,
              "expired at " + expiresAt.get(),
              generation,
              now));
    } else if (!violations.isEmpty()) {
      phase = Phase.Pending;
      conditions.add(
          condition(
              previous,
              READY,
              false,
              REASON_INVALID,
              violations.stream().map(Violation::toString).collect(Collectors.joining("; ")),
              generation,
              now));
    } else {
      phase = Phase.Active;
      conditions.add(
          condition(
              previous,
              READY,
              true,
              REASON_ACTIVE,
              expiresAt.map(e -> "active until " + e).orElse("active until deleted"),
              generation,
              now));
    }
    AgentSessionStatus status =
        new AgentSessionStatus(
            phase,
            conditions,
            expiresAt.map(Instant::toString).orElse(null),
            boundPods,
            generation);
    return new Outcome(status, expired ? Optional.empty() : expiresAt);
  }

  /** The status of a session being deleted: its sidecars deny from now on. */
  public static AgentSessionStatus revoked(AgentSession session, Instant now) {
    List<Condition> previous =
        session.getStatus() == null || session.getStatus().conditions() == null
            ? List.of()
            : session.getStatus().conditions();
    Long generation = session.getMetadata().getGeneration();
    List<Condition> conditions =
        List.of(
            condition(
                previous,
                READY,
                false,
                REASON_REVOKED,
                "the session was deleted: sidecars deny every request",
                generation,
                now),
            condition(
                previous, REVOKED, true, REASON_REVOKED, "revoked by deletion", generation, now));
    AgentSessionStatus old = session.getStatus();
    return new AgentSessionStatus(
        Phase.Revoked,
        conditions,
        old == null ? null : old.expiresAt(),
        old == null ? null : old.pods(),
        generation,
        old == null ? null : old.lastRecovery(),
        old == null ? null : old.activity());
  }

  /** Keeps lastTransitionTime when the condition's status did not change. */
  private static Condition condition(
      List<Condition> previous,
      String type,
      boolean value,
      String reason,
      String message,
      Long generation,
      Instant now) {
    String status = value ? "True" : "False";
    String since =
        previous.stream()
            .filter(c -> type.equals(c.getType()) && status.equals(c.getStatus()))
            .map(Condition::getLastTransitionTime)
            .filter(Objects::nonNull)
            .findFirst()
            .orElse(now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(generation)
        .withLastTransitionTime(since)
        .build();
  }
}
