package dev.capgate.sidecar.audit;

import dev.capgate.sidecar.admin.Metrics;
import dev.capgate.sidecar.admin.Metrics.Series;
import dev.capgate.sidecar.policy.ConnectionAction;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
 * Runs on event loops: it formats, enqueues and adds to lock-free counters, nothing blocks. Each
 * series is looked up in a cache keyed by the rule or enum it counts ({@link Series}), so counting
 * a known series allocates nothing.
 */
public final class AuditRecorder {
  static final String DECISIONS = "capgate_decisions_total";
  static final String REQUEST_DURATION = "capgate_request_duration_seconds";
  static final String DNS_QUERIES = "capgate_dns_queries_total";
  static final String AGENT_TLS_FAILURES = "capgate_agent_tls_failures_total";
  static final String CONNECTIONS = "capgate_connections_total";
  static final String PLACEHOLDER_LEAKS = "capgate_placeholder_leaks_total";
  static final String MCP_TOOL_CALLS = "capgate_mcp_tool_calls_total";
  static final String LIMIT_REFUSALS = "capgate_limit_refusals_total";
  static final String APPROVALS = "capgate_approvals_total";
  static final String GRPC_CALLS = "capgate_grpc_calls_total";

  private static final String NONE = "none";
  private static final String UNKNOWN = "unknown";

  private final AuditLog log;

  /** By decision, then by level (0 connection, 1 request), then by rule. */
  private final List<List<Series<String, CounterDataPoint>>> decisions;

  private final Series<Decision, DistributionDataPoint> requestDuration;
  private final Series<DnsOutcome, CounterDataPoint> dnsQueries;
  private final Series<String, CounterDataPoint> agentTlsFailures;

  /** By action, then by rule. */
  private final Map<ConnectionAction, Series<String, CounterDataPoint>> connections;

  private final Series<String, CounterDataPoint> placeholderLeaks;

  /** MCP tools/call by rule, tool (only names the rule allows) and outcome. */
  private final Counter mcpToolCalls;

  private final Counter approvals;

  /** By limit and scope, then by rule. */
  private final Map<String, Series<String, CounterDataPoint>> limitRefusals =
      new java.util.concurrent.ConcurrentHashMap<>();

  private final Counter limitCounter;

  /** gRPC calls by rule, method (an entry of the rule's grpc block) and gRPC status. */
  private final Counter grpcCalls;

  /** Requests and denials for the session's status (operator/README.md "Session activity"). */
  private final ActivityCounter activity = new ActivityCounter();

  public AuditRecorder(AuditLog log, Metrics metrics) {
    this.log = log;
    Counter decisionCounter =
        metrics.counter(
            DECISIONS, "Policy decisions by rule and outcome", "rule", "outcome", "level");
    List<List<Series<String, CounterDataPoint>>> byDecision = new ArrayList<>();
    for (Decision decision : Decision.values()) {
      List<Series<String, CounterDataPoint>> byLevel = new ArrayList<>();
      for (AuditKind level : List.of(AuditKind.CONNECTION, AuditKind.REQUEST)) {
        byLevel.add(
            new Series<>(
                rule -> decisionCounter.labelValues(rule, decision.label(), level.label())));
      }
      byDecision.add(List.copyOf(byLevel));
    }
    this.decisions = List.copyOf(byDecision);
    Histogram duration =
        metrics.secondsHistogram(
            REQUEST_DURATION, "Request latency through the sidecar", "outcome");
    this.requestDuration = new Series<>(d -> duration.labelValues(d.label()));
    Counter dns = metrics.counter(DNS_QUERIES, "DNS queries by outcome", "outcome");
    this.dnsQueries = new Series<>(o -> dns.labelValues(o.label()));
    Counter tls =
        metrics.counter(AGENT_TLS_FAILURES, "Agent TLS handshakes that failed, by kind", "kind");
    this.agentTlsFailures = new Series<>(tls::labelValues);
    // The series alerts and dashboards read exist from the start at 0 (a rate over nothing is no
    // data, not 0): the three handshake failure kinds, and leaks of an unknown credential.
    for (String kind : AuditKind.TLS_FAILURES) {
      agentTlsFailures.of(kind);
    }
    Counter connectionCounter =
        metrics.counter(CONNECTIONS, "Agent connections by policy action", "action", "rule");
    Map<ConnectionAction, Series<String, CounterDataPoint>> byAction =
        new EnumMap<>(ConnectionAction.class);
    for (ConnectionAction action : ConnectionAction.values()) {
      String label = action.name().toLowerCase(Locale.ROOT);
      byAction.put(action, new Series<>(rule -> connectionCounter.labelValues(label, rule)));
    }
    this.connections = byAction;
    Counter leaks =
        metrics.counter(
            PLACEHOLDER_LEAKS,
            "Requests refused for carrying a placeholder where it may not go (likely exfiltration"
                + " attempts)",
            "credential");
    this.placeholderLeaks = new Series<>(leaks::labelValues);
    placeholderLeaks.of(UNKNOWN);
    this.mcpToolCalls =
        metrics.counter(
            MCP_TOOL_CALLS,
            "MCP tools/call messages by rule, tool and outcome (allowed, tool-denied,"
                + " arguments-denied, result-too-large); tools the rule does not name count as (other)",
            "rule",
            "tool",
            "outcome");
    this.approvals =
        metrics.counter(
            APPROVALS,
            "Requests held for a person's approval, by rule and what became of them (approved,"
                + " rejected, timed-out, unavailable)",
            "rule",
            "outcome");
    this.grpcCalls =
        metrics.counter(
            GRPC_CALLS,
            "gRPC calls by rule, method (the rule's grpc entry that allowed it, (other) for a"
                + " refused one, (any) on a rule without grpc methods) and the gRPC status the agent"
                + " got (none: the stream broke without one)",
            "rule",
            "method",
            "grpc_status");
    this.limitCounter =
        metrics.counter(
            LIMIT_REFUSALS,
            "Requests refused by a rate, concurrency or budget limit (429 or 403"
                + " budget-exhausted), by the rule that allowed them, the limit and whose limit it"
                + " was (rule or session)",
            "rule",
            "limit",
            "scope");
  }

  /**
   * Counts a request a limit refused (the refusal itself is recorded as a deny with a {@code
   * rate-limited}, {@code concurrency-limited} or {@code budget-exhausted} reason).
   *
   * @param limit rate, concurrency, requests-budget or bytes-budget
   * @param scope rule or session
   */
  public void limitRefused(String rule, String limit, String scope) {
    Series<String, CounterDataPoint> byRule = limitRefusals.get(limit + '/' + scope);
    if (byRule == null) {
      byRule =
          limitRefusals.computeIfAbsent(
              limit + '/' + scope,
              k -> new Series<>(r -> limitCounter.labelValues(r, limit, scope)));
    }
    byRule.of(rule == null ? NONE : rule).inc();
  }

  /** Writes {@code event}'s audit line (unless it is a DNS outcome not audited) and counts it. */
  public void record(AuditEvent event) {
    switch (event.kind()) {
      case AuditKind.Connection c -> {
        log.record(event);
        countDecision(event, 0);
        activity.record(event);
      }
      case AuditKind.Request r -> {
        log.record(event);
        countDecision(event, 1);
        activity.record(event);
        requestDuration.of(event.decision()).observe(event.latencyMicros() / 1e6);
      }
      case AuditKind.Dns(DnsOutcome outcome) -> {
        if (outcome.audited()) {
          log.record(event);
        }
        dnsQueries.of(outcome).inc();
      }
      case AuditKind.Tls(String failure) -> {
        log.record(event);
        agentTlsFailures.of(failure).inc();
      }
    }
  }

  /**
   * This pod's requests (connection and request decisions) and denials so far, for the session's
   * status.
   */
  public ActivityCounter activity() {
    return activity;
  }

  /**
   * Counts what policy chose for a new agent connection, intercepted ones included (those are
   * audited per request, not here).
   */
  public void connectionRouted(ConnectionAction action, String rule) {
    connections.get(action).of(rule == null ? NONE : rule).inc();
  }

  /**
   * Counts a placeholder found where it may not go (the refusal itself is recorded as a deny with a
   * {@code placeholder-exfiltration} reason).
   *
   * @param credential the placeholder's credential, null when unknown
   */
  /**
   * One MCP tools/call and what became of it; {@code tool} is a name the rule allows or (other).
   */
  public void mcpToolCall(String rule, String tool, String outcome) {
    mcpToolCalls.labelValues(rule == null ? NONE : rule, tool, outcome).inc();
  }

  /** A held request's end: {@code outcome} is approved, rejected, timed-out or unavailable. */
  public void approval(String rule, String outcome) {
    approvals.labelValues(rule == null ? NONE : rule, outcome).inc();
  }

  /** One gRPC call and the status it ended with; {@code method} is a bounded label. */
  public void grpcCall(String rule, String method, String grpcStatus) {
    grpcCalls.labelValues(rule == null ? NONE : rule, method, grpcStatus).inc();
  }

  public void placeholderLeak(String credential) {
    placeholderLeaks.of(credential == null ? UNKNOWN : credential).inc();
  }

  private void countDecision(AuditEvent event, int level) {
    decisions
        .get(event.decision().ordinal())
        .get(level)
        .of(event.rule() == null ? NONE : event.rule())
        .inc();
  }
}
