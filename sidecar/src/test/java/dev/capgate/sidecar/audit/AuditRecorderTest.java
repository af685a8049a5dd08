package dev.capgate.sidecar.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.sidecar.admin.Metrics;
import dev.capgate.sidecar.policy.ConnectionAction;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One {@link AuditRecorder#record} call writes the audit line and counts the decision in the metric
 * of its kind, under the names and labels the README documents (and dashboards, tests and the bench
 * read).
 */
class AuditRecorderTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SessionIdentity SESSION =
      new SessionIdentity("agents", "fix-issue-42", "alice@example.com", "coding-agent", null);

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final AuditLog log =
      new AuditLog(out, Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC));
  private final Metrics metrics = new Metrics();
  private final AuditRecorder recorder = new AuditRecorder(log, metrics);

  /** The lines written, once the writer thread has written them all. */
  private List<JsonNode> lines() throws Exception {
    log.close();
    List<JsonNode> nodes = new java.util.ArrayList<>();
    for (String line : out.toString(StandardCharsets.UTF_8).lines().toList()) {
      nodes.add(JSON.readTree(line));
    }
    return nodes;
  }

  private List<String> series(String family) {
    return metrics.render().lines().filter(l -> l.startsWith(family)).toList();
  }

  @Test
  void a_connection_is_one_line_and_one_connection_level_decision() throws Exception {
    recorder.record(
        AuditEvent.connection(
            "c-1",
            SESSION,
            "evil.test",
            "GET",
            "/",
            null,
            Decision.DENY,
            12,
            "no egress rule allows evil.test:80",
            Flow.of("http/1.1", new InetSocketAddress("10.1.2.3", 80))));

    List<JsonNode> lines = lines();
    assertThat(lines).hasSize(1);
    JsonNode line = lines.getFirst();
    assertThat(line.get("kind").asText()).isEqualTo("connection");
    assertThat(line.get("decision").asText()).isEqualTo("deny");
    assertThat(line.get("requestId").asText()).isEqualTo("c-1");
    assertThat(line.get("session").asText()).isEqualTo("fix-issue-42");
    assertThat(line.get("host").asText()).isEqualTo("evil.test");
    assertThat(series("capgate_decisions_total{"))
        .containsExactly(
            "capgate_decisions_total{level=\"connection\",outcome=\"deny\",rule=\"none\"} 1.0");
    assertThat(series("capgate_request_duration_seconds")).isEmpty();
  }

  @Test
  void a_request_is_one_line_one_request_level_decision_and_its_duration() throws Exception {
    recorder.record(
        AuditEvent.request(
            "r-1",
            SESSION,
            "api.github.test",
            "GET",
            "/user",
            "github-api",
            Decision.ALLOW,
            "github",
            200,
            2_000,
            null,
            new Flow("h2", new InetSocketAddress("10.1.2.4", 443), 0, 2, null)));

    List<JsonNode> lines = lines();
    assertThat(lines).hasSize(1);
    JsonNode line = lines.getFirst();
    assertThat(line.get("kind").asText()).isEqualTo("request");
    assertThat(line.get("decision").asText()).isEqualTo("allow");
    assertThat(line.get("credential").asText()).isEqualTo("github");
    assertThat(line.get("upstreamStatus").asInt()).isEqualTo(200);
    assertThat(series("capgate_decisions_total{"))
        .containsExactly(
            "capgate_decisions_total{level=\"request\",outcome=\"allow\",rule=\"github-api\"} 1.0");
    assertThat(series("capgate_request_duration_seconds_count"))
        .containsExactly("capgate_request_duration_seconds_count{outcome=\"allow\"} 1");
    assertThat(series("capgate_request_duration_seconds_sum"))
        .containsExactly("capgate_request_duration_seconds_sum{outcome=\"allow\"} 0.002");
  }

  @Test
  void a_refused_dns_query_is_one_line_and_counted_by_its_outcome() throws Exception {
    recorder.record(
        AuditEvent.dns("d-1", SESSION, "evil.test", "A", DnsOutcome.NXDOMAIN, "name not allowed"));

    List<JsonNode> lines = lines();
    assertThat(lines).hasSize(1);
    JsonNode line = lines.getFirst();
    assertThat(line.get("kind").asText()).isEqualTo("dns");
    assertThat(line.get("decision").asText()).isEqualTo("deny");
    assertThat(line.get("method").asText()).isEqualTo("DNS A");
    assertThat(line.get("host").asText()).isEqualTo("evil.test");
    assertThat(series("capgate_dns_queries_total{"))
        .containsExactly("capgate_dns_queries_total{outcome=\"nxdomain\"} 1.0");
    assertThat(series("capgate_decisions_total")).isEmpty();
  }

  @Test
  void a_forwarded_dns_query_is_counted_without_a_line() throws Exception {
    recorder.record(
        AuditEvent.dns(null, SESSION, "api.github.test", "AAAA", DnsOutcome.FORWARDED, null));
    recorder.record(AuditEvent.dns(null, null, null, null, DnsOutcome.REFUSED, null));

    assertThat(lines()).isEmpty();
    assertThat(series("capgate_dns_queries_total{"))
        .containsExactly(
            "capgate_dns_queries_total{outcome=\"forwarded\"} 1.0",
            "capgate_dns_queries_total{outcome=\"refused\"} 1.0");
  }

  @Test
  void a_failed_agent_handshake_is_one_error_line_counted_by_its_reason_token() throws Exception {
    recorder.record(
        AuditEvent.tlsFailure(
            "c-2",
            SESSION,
            "api.github.test",
            "github-api",
            300,
            "agent-rejected-pod-ca: the agent refused the certificate (alert unknown_ca)",
            new InetSocketAddress("10.1.2.4", 443)));

    List<JsonNode> lines = lines();
    assertThat(lines).hasSize(1);
    JsonNode line = lines.getFirst();
    assertThat(line.get("kind").asText()).isEqualTo("tls");
    assertThat(line.get("decision").asText()).isEqualTo("error");
    assertThat(line.get("rule").asText()).isEqualTo("github-api");
    // The three kinds exist from the start (alerts and dashboards read them), at 0 until counted.
    assertThat(series("capgate_agent_tls_failures_total{"))
        .containsExactlyInAnyOrder(
            "capgate_agent_tls_failures_total{kind=\"agent-rejected-pod-ca\"} 1.0",
            "capgate_agent_tls_failures_total{kind=\"agent-tls-handshake-failed\"} 0.0",
            "capgate_agent_tls_failures_total{kind=\"agent-tls-handshake-timeout\"} 0.0");
    assertThat(series("capgate_decisions_total")).isEmpty();
  }

  @Test
  void routed_connections_and_placeholder_leaks_keep_their_metrics() throws Exception {
    recorder.connectionRouted(ConnectionAction.PASSTHROUGH, "pypi");
    recorder.connectionRouted(ConnectionAction.DENY, null);
    recorder.placeholderLeak("github");
    recorder.placeholderLeak(null);

    assertThat(lines()).isEmpty();
    assertThat(series("capgate_connections_total{"))
        .containsExactly(
            "capgate_connections_total{action=\"deny\",rule=\"none\"} 1.0",
            "capgate_connections_total{action=\"passthrough\",rule=\"pypi\"} 1.0");
    assertThat(series("capgate_placeholder_leaks_total{"))
        .containsExactly(
            "capgate_placeholder_leaks_total{credential=\"github\"} 1.0",
            "capgate_placeholder_leaks_total{credential=\"unknown\"} 1.0");
  }

  @Test
  void a_dns_event_cannot_say_another_decision_than_its_outcome() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new AuditEvent(
                    AuditKind.dns(DnsOutcome.NXDOMAIN),
                    "d-1",
                    null,
                    "evil.test",
                    "DNS A",
                    null,
                    null,
                    Decision.ALLOW,
                    null,
                    null,
                    0,
                    null,
                    Flow.DNS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a DNS nxdomain is a deny, not allow");
  }

  @Test
  void a_decision_label_is_what_the_line_and_the_metric_say() {
    assertThat(Decision.ALLOW.label()).isEqualTo("allow");
    assertThat(Decision.DENY.label()).isEqualTo("deny");
    assertThat(Decision.ERROR.label()).isEqualTo("error");
  }

  /** status.activity: requests and connections are counted, denials with the last one's fields. */
  @Test
  void requests_connections_and_denials_feed_the_sessions_activity() {
    assertThat(recorder.activity().snapshot().requests()).isZero();
    assertThat(recorder.activity().snapshot().lastActivity()).isNull();
    recorder.record(
        AuditEvent.request(
            "r-1",
            SESSION,
            "api.github.com",
            "GET",
            "/repos",
            "gh",
            Decision.ALLOW,
            "github",
            200,
            10,
            null,
            Flow.NONE));
    recorder.record(
        AuditEvent.request(
            "r-2",
            SESSION,
            "api.github.com",
            "DELETE",
            "/repos/x",
            "gh",
            Decision.DENY,
            null,
            null,
            10,
            "method-not-allowed",
            Flow.NONE));
    recorder.record(
        AuditEvent.connection(
            "c-3", SESSION, "evil.test", null, null, null, Decision.DENY, 1, "no-rule", Flow.NONE));
    recorder.record(
        AuditEvent.dns("d-4", SESSION, "evil.test", "A", DnsOutcome.NXDOMAIN, "not-allowed"));

    var activity = recorder.activity().snapshot();
    assertThat(activity.requests()).as("DNS answers, even refused, are not counted").isEqualTo(3);
    assertThat(activity.denials()).isEqualTo(2);
    assertThat(activity.lastActivity()).isNotNull();
    assertThat(activity.lastDenial().host()).isEqualTo("evil.test");
    assertThat(activity.lastDenial().reason()).isEqualTo("no-rule");
    assertThat(activity.lastDenial().requestId()).isEqualTo("c-3");
    assertThat(Instant.parse(activity.lastDenial().time())).isNotNull();
  }
}
