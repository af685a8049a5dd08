package dev.capgate.sidecar.audit;

import dev.capgate.sidecar.policy.SessionIdentity;
import java.util.Objects;

/**
 * One decision, as audited. Carries names only: {@code credential} is the credential's name, the
 * path has no query (queries can carry tokens), and there is no field a value could go in. Built by
 * the factory of its kind ({@link #request}, {@link #connection}, {@link #dns}, {@link
 * #tlsFailure}) and handed to {@link AuditRecorder#record}, which writes the line and counts it.
 *
 * @param session whose session, null when there is no valid policy
 * @param upstreamStatus the upstream's HTTP status, null when nothing was forwarded
 * @param flow protocol, destination, body bytes and trace context ({@link Flow#NONE} when unknown)
 */
public record AuditEvent(
    AuditKind kind,
    String requestId,
    SessionIdentity session,
    String host,
    String method,
    String path,
    String rule,
    Decision decision,
    String credential,
    Integer upstreamStatus,
    long latencyMicros,
    String reason,
    Flow flow) {

  public AuditEvent {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(flow, "flow");
    Objects.requireNonNull(decision, "decision");
    if (kind instanceof AuditKind.Dns(DnsOutcome outcome) && outcome.decision() != decision) {
      // the line and the metric would disagree: the outcome is the decision
      throw new IllegalArgumentException(
          "a DNS "
              + outcome.label()
              + " is a "
              + outcome.decision().label()
              + ", not "
              + decision.label());
    }
  }

  /**
   * One HTTP request, allowed or refused.
   *
   * @param credential the names of the credentials injected, comma-separated; on a placeholder
   *     refusal, the placeholder's credential
   */
  public static AuditEvent request(
      String requestId,
      SessionIdentity session,
      String host,
      String method,
      String path,
      String rule,
      Decision decision,
      String credential,
      Integer upstreamStatus,
      long latencyMicros,
      String reason,
      Flow flow) {
    return new AuditEvent(
        AuditKind.REQUEST,
        requestId,
        session,
        host,
        method,
        path,
        rule,
        decision,
        credential,
        upstreamStatus,
        latencyMicros,
        reason,
        flow);
  }

  /**
   * A connection spliced (passthrough, tcp) or refused as a whole; {@code method} and {@code path}
   * when a refused plaintext request showed them.
   */
  public static AuditEvent connection(
      String connectionId,
      SessionIdentity session,
      String host,
      String method,
      String path,
      String rule,
      Decision decision,
      long latencyMicros,
      String reason,
      Flow flow) {
    return new AuditEvent(
        AuditKind.CONNECTION,
        connectionId,
        session,
        host,
        method,
        path,
        rule,
        decision,
        null,
        null,
        latencyMicros,
        reason,
        flow);
  }

  /**
   * A DNS query for {@code name}, shown as method {@code DNS <type>}; the decision is the
   * outcome's.
   */
  public static AuditEvent dns(
      String requestId,
      SessionIdentity session,
      String name,
      String type,
      DnsOutcome outcome,
      String reason) {
    return new AuditEvent(
        AuditKind.dns(outcome),
        requestId,
        session,
        name,
        type == null ? null : "DNS " + type,
        null,
        null,
        outcome.decision(),
        null,
        null,
        0,
        reason,
        Flow.DNS);
  }

  /**
   * An agent TLS handshake with the sidecar that failed: an {@code error} whose reason starts with
   * the failure's token ({@link AuditKind#tls}).
   */
  public static AuditEvent tlsFailure(
      String connectionId,
      SessionIdentity session,
      String host,
      String rule,
      long latencyMicros,
      String reason,
      java.net.InetSocketAddress destination) {
    return new AuditEvent(
        AuditKind.tls(reason),
        connectionId,
        session,
        host,
        null,
        null,
        rule,
        Decision.ERROR,
        null,
        null,
        latencyMicros,
        reason,
        Flow.of("tls", destination));
  }
}
