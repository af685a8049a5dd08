package dev.capgate.sidecar.session;

import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Durations;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.sidecar.policy.InvalidPolicyException;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * What one observed state of the AgentSession means for traffic, as a pure function. Only an {@code
 * Active} session with a valid spec, not past its expiry and not being deleted, lets traffic
 * through.
 *
 * <p>{@code Pending} (or no status yet) denies: the operator has not vouched for the session, and
 * the CRD says "only Active lets requests through". The cost is that a pod waits for the operator's
 * first reconcile; the operator's webhook must be up for the pod to exist at all, so in practice
 * that wait is the reconcile itself (milliseconds to seconds).
 *
 * <p>Terminal verdicts end the session for this sidecar for good: a deleted, expired or revoked
 * session does not come back, and a re-created one with the same name is another session (another
 * uid) that this pod was not admitted for.
 */
final class SessionDecision {
  private SessionDecision() {}

  sealed interface Verdict permits Enforce, Deny {}

  /**
   * Let traffic through under {@code policy}; {@code expiresAt} is when the local timer ends it
   * (null: never).
   */
  record Enforce(Policy policy, Instant expiresAt, long generation) implements Verdict {}

  /** Deny, saying why; {@code terminal}: the session is over for this sidecar. */
  record Deny(String reason, boolean terminal) implements Verdict {}

  static Verdict decide(ObservedSession session, String boundUid, Instant now) {
    return decide(session, null, boundUid, now);
  }

  /**
   * @param specProblem why the spec as stored cannot be enforced as written (a field unknown to
   *     this sidecar, see {@link SessionReader}), or null
   * @param boundUid the uid this sidecar first saw for its session (null before the first sighting)
   */
  static Verdict decide(ObservedSession session, String specProblem, String boundUid, Instant now) {
    String where = session.where();
    if (boundUid != null && !boundUid.equals(session.uid())) {
      return new Deny(
          "the AgentSession "
              + where
              + " was deleted and re-created: this pod belongs to the old one",
          true);
    }
    if (session.deletionTimestamp() != null) {
      return new Deny("the AgentSession " + where + " is being deleted", true);
    }
    Phase phase = session.phase();
    if (phase == Phase.Revoked || phase == Phase.Expired) {
      return new Deny("the AgentSession " + where + " is " + phase, true);
    }
    AgentSessionSpec spec = session.spec();
    Optional<Instant> expiresAt;
    try {
      expiresAt = expiry(session);
    } catch (IllegalArgumentException | DateTimeParseException e) {
      return new Deny(
          "the AgentSession " + where + " has an unusable ttl or creation time: " + e.getMessage(),
          false);
    }
    if (expiresAt.isPresent() && !now.isBefore(expiresAt.get())) {
      return new Deny(
          "the AgentSession " + where + " expired at " + expiresAt.get() + " (creation + spec.ttl)",
          true);
    }
    if (specProblem != null) {
      return new Deny(specProblem, false);
    }
    Policy policy;
    try {
      if (spec == null) {
        return new Deny("the AgentSession " + where + " has no spec", false);
      }
      policy =
          Policy.compile(
              new SessionIdentity(
                  session.namespace(), session.name(), spec.user(), spec.agent(), spec.project()),
              spec);
    } catch (InvalidPolicyException e) {
      return new Deny(e.getMessage(), false);
    }
    if (phase != Phase.Active) {
      return new Deny(
          "the AgentSession "
              + where
              + " is "
              + (phase == null ? "not yet reconciled" : phase)
              + ": waiting for the operator to mark it Active",
          false);
    }
    return new Enforce(policy, expiresAt.orElse(null), session.generation());
  }

  /** creationTimestamp + spec.ttl, computed here so expiry holds even when the operator is down. */
  static Optional<Instant> expiry(ObservedSession session) {
    String ttl = session.spec() == null ? null : session.spec().ttl();
    String created = session.creationTimestamp();
    if (ttl == null || created == null) {
      return Optional.empty();
    }
    return Optional.of(Instant.parse(created).plus(Durations.parse(ttl)));
  }
}
