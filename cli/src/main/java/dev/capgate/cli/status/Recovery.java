package dev.capgate.cli.status;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.AgentSession;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The recovery contract with the operator (operator/README.md, "Recovery after compromise"): the
 * plugin sets the annotation {@link #ANNOTATION} to an RFC 3339 UTC instant; the operator revokes
 * the session's Vault tokens and leases, restarts its pods, and records {@code status.lastRecovery}
 * (that instant) with the condition {@code Recovered}: reason {@link #COMPLETED}, or {@link
 * #FAILED} with a message. The names are the crds module's ({@link AgentSession}), which the
 * operator uses too.
 */
public final class Recovery {
  public static final String ANNOTATION = AgentSession.RECOVER_ANNOTATION;
  public static final String CONDITION = AgentSession.RECOVERED_CONDITION;
  public static final String COMPLETED = AgentSession.RECOVERY_COMPLETED;
  public static final String FAILED = AgentSession.RECOVERY_FAILED;

  /** Where a requested recovery stands. */
  public enum State {
    PENDING,
    COMPLETED,
    FAILED
  }

  private Recovery() {}

  /**
   * Whether the operator has acted on the request stamped {@code requested}: {@code lastRecovery}
   * at or after it (compared as instants: the operator may write the same instant differently) and
   * the condition's reason. A failure may come without {@code lastRecovery}; then the condition's
   * own transition time tells that it is about this request.
   */
  public static State state(JsonNode session, Instant requested) {
    JsonNode status = session.path("status");
    JsonNode condition = new SessionSummary(session).condition(CONDITION);
    String reason = condition.path("reason").asText("");
    boolean recorded = atOrAfter(status.path("lastRecovery").asText(null), requested);
    if (recorded && COMPLETED.equals(reason)) {
      return State.COMPLETED;
    }
    if (FAILED.equals(reason)
        && (recorded || atOrAfter(condition.path("lastTransitionTime").asText(null), requested))) {
      return State.FAILED;
    }
    return State.PENDING;
  }

  /** The condition's message, or a dash. */
  public static String message(JsonNode session) {
    return new SessionSummary(session).condition(CONDITION).path("message").asText("-");
  }

  private static boolean atOrAfter(String text, Instant requested) {
    if (text == null || text.isBlank()) {
      return false;
    }
    try {
      return !Instant.parse(text).isBefore(requested);
    } catch (DateTimeParseException e) {
      return false;
    }
  }
}
