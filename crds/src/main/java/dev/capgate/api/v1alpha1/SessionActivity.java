package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * What a session's sidecars did, counted over the session's life: {@code status.activity}. Each
 * sidecar writes its own pod's counts in this shape into the session's lease ledger ({@link
 * dev.capgate.api.sidecar.LeaseLedger#activityKey}); the operator adds them up ({@link #plus}).
 * Informational only: no decision reads it (a pod of the session can write its own entry, see
 * operator/README.md "Session activity").
 *
 * <p>No Fabric8 type here: the sidecar, which carries no Fabric8, writes it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SessionActivity(
    @JsonPropertyDescription(
            "Requests and connections the sidecars decided on (allowed or not), over the session's"
                + " life; a sidecar restarted in place counts again from 0.")
        Long requests,
    @JsonPropertyDescription("How many of them were denied by policy.") Long denials,
    @JsonPropertyDescription("When a sidecar of the session last decided on a request, RFC 3339.")
        String lastActivity,
    @JsonPropertyDescription("The most recent denial.") Denial lastDenial) {

  /** Bounds on what is shown: the ledger is written by the pods, so nothing in it is trusted. */
  static final int MAX_HOST = 253;

  static final int MAX_TEXT = 256;
  static final int MAX_SHORT = 64;

  public static final SessionActivity NONE = new SessionActivity(0L, 0L, null, null);

  /** One refused request: names and paths only, never a header or credential value. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Denial(
      @JsonPropertyDescription("When it was refused, RFC 3339.") String time,
      @JsonPropertyDescription("The host the agent asked for (SNI, Host or DNS name).") String host,
      @JsonPropertyDescription("The HTTP method, when the request got that far.") String method,
      @JsonPropertyDescription("The path without its query, when the request got that far.")
          String path,
      @JsonPropertyDescription("The egress rule that matched, if any.") String rule,
      @JsonPropertyDescription("Why it was refused (the audit line's reason).") String reason,
      @JsonPropertyDescription(
              "The audit line's requestId: kubectl capgate explain <requestId> tells the rest.")
          String requestId) {

    /** The same, each field cut to its bound and stripped of control characters. */
    public Denial bounded() {
      return new Denial(
          timestamp(time),
          text(host, MAX_HOST),
          text(method, MAX_SHORT),
          text(path, MAX_TEXT),
          text(rule, MAX_SHORT),
          text(reason, MAX_TEXT),
          text(requestId, MAX_SHORT));
    }
  }

  /** Bounded, non-negative, timestamps that parse (or null): safe to show whoever wrote it. */
  public SessionActivity bounded() {
    return new SessionActivity(
        count(requests),
        count(denials),
        timestamp(lastActivity),
        lastDenial == null ? null : lastDenial.bounded());
  }

  /** The sum of two pods' activity: counts added, the later of the times and denials. */
  public SessionActivity plus(SessionActivity other) {
    Denial denial =
        laterIsOther(
                lastDenial == null ? null : lastDenial.time(),
                other.lastDenial == null ? null : other.lastDenial.time())
            ? other.lastDenial
            : lastDenial;
    return new SessionActivity(
        saturatedAdd(count(requests), count(other.requests)),
        saturatedAdd(count(denials), count(other.denials)),
        laterIsOther(lastActivity, other.lastActivity) ? other.lastActivity : lastActivity,
        denial);
  }

  /** Whether {@code b} is later than {@code a}; a time that does not parse loses. */
  private static boolean laterIsOther(String a, String b) {
    Instant x = instant(a);
    Instant y = instant(b);
    return y != null && (x == null || x.isBefore(y));
  }

  private static long count(Long n) {
    return n == null || n < 0 ? 0 : n;
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  private static Instant instant(String value) {
    if (value == null) {
      return null;
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static String timestamp(String value) {
    Instant at = instant(value);
    return at == null ? null : at.toString();
  }

  private static String text(String value, int max) {
    if (value == null) {
      return null;
    }
    StringBuilder out = new StringBuilder(Math.min(value.length(), max));
    for (int i = 0; i < value.length() && out.length() < max; i++) {
      char c = value.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return out.toString();
  }
}
