package dev.capgate.sidecar.audit;

import dev.capgate.sidecar.admin.Metrics;
import dev.capgate.sidecar.policy.ConnectionAction;
import java.util.Locale;

/**
 * The one place a decision is recorded: {@link #record} writes the audit line and counts the
 * decision in the metric of its kind, so the two cannot drift apart and no path counts a decision
 * by hand. The metric names and labels are the ones documented in sidecar/README.md ("Audit
 * lines"); dashboards and tests read them.
 *
 * <ul>
 *   <li>connection: {@code capgate_decisions_total{rule,outcome,level="connection"}}
 *   <li>request: {@code capgate_decisions_total{rule,outcome,level="request"}} and {@code
 *       capgate_request_duration_seconds{outcome}}
 *   <li>dns: {@code capgate_dns_queries_total{outcome}} (a line only for {@link
 *       DnsOutcome#audited()} outcomes)
 *   <li>tls: {@code capgate_agent_tls_failures_total{kind}}
 * </ul>
 *
 * Runs on event loops: it formats, enqueues and adds to lock-free counters, nothing blocks.
 */
public final class AuditRecorder {
  static final String DECISIONS = "capgate_decisions_total";
  static final String REQUEST_DURATION = "capgate_request_duration_seconds";
  static final String DNS_QUERIES = "capgate_dns_queries_total";
  static final String AGENT_TLS_FAILURES = "capgate_agent_tls_failures_total";
  static final String CONNECTIONS = "capgate_connections_total";
  static final String PLACEHOLDER_LEAKS = "capgate_placeholder_leaks_total";

  private final AuditLog log;
  private final Metrics metrics;

  public AuditRecorder(AuditLog log, Metrics metrics) {
    this.log = log;
    this.metrics = metrics;
  }

  /** Writes {@code event}'s audit line (unless it is a DNS outcome not audited) and counts it. */
  public void record(AuditEvent event) {
    switch (event.kind()) {
      case AuditKind.Connection c -> {
        log.record(event);
        countDecision(event);
      }
      case AuditKind.Request r -> {
        log.record(event);
        countDecision(event);
        metrics.observe(
            REQUEST_DURATION,
            "Request latency through the sidecar",
            event.latencyMicros() / 1e6,
            "outcome",
            event.decision().label());
      }
      case AuditKind.Dns(DnsOutcome outcome) -> {
        if (outcome.audited()) {
          log.record(event);
        }
        metrics.increment(DNS_QUERIES, "DNS queries by outcome", "outcome", outcome.label());
      }
      case AuditKind.Tls(String failure) -> {
        log.record(event);
        metrics.increment(
            AGENT_TLS_FAILURES, "Agent TLS handshakes that failed, by kind", "kind", failure);
      }
    }
  }

  /**
   * Counts what policy chose for a new agent connection, intercepted ones included (those are
   * audited per request, not here).
   */
  public void connectionRouted(ConnectionAction action, String rule) {
    metrics.increment(
        CONNECTIONS,
        "Agent connections by policy action",
        "action",
        action.name().toLowerCase(Locale.ROOT),
        "rule",
        rule == null ? "none" : rule);
  }

  /**
   * Counts a placeholder found where it may not go (the refusal itself is recorded as a deny with a
   * {@code placeholder-exfiltration} reason).
   *
   * @param credential the placeholder's credential, null when unknown
   */
  public void placeholderLeak(String credential) {
    metrics.increment(
        PLACEHOLDER_LEAKS,
        "Requests refused for carrying a placeholder where it may not go (likely exfiltration attempts)",
        "credential",
        credential == null ? "unknown" : credential);
  }

  private void countDecision(AuditEvent event) {
    metrics.increment(
        DECISIONS,
        "Policy decisions by rule and outcome",
        "rule",
        event.rule() == null ? "none" : event.rule(),
        "outcome",
        event.decision().label(),
        "level",
        event.kind().label());
  }
}
