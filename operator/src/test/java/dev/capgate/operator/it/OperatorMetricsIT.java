package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.testkit.ProcessResult;
import dev.capgate.testkit.PrometheusLint;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator's /metrics after real traffic (admissions through the real API server, a request
 * that is no AdmissionReview, a session deleted): Prometheus names, no unbounded label, {@code
 * promtool check metrics} clean, and every metric the chart's operator alerts and dashboard row
 * read is really served.
 */
class OperatorMetricsIT {
  private static final Path CHART_FILES = Path.of("../charts/capgate/files");
  private static final Path RULES = CHART_FILES.resolve("prometheus-rules.yaml");

  static OperatorUnderTest stack;
  static String ns;
  static String metrics;

  @BeforeAll
  static void traffic() throws Exception {
    stack = OperatorUnderTest.shared();
    ns = stack.kube.newNamespace("metrics");
    stack.createServiceAccount(ns, "coding-agent");
    stack.createSession(ns, githubSession("metrics-session").ttl("1h"));
    stack.createPod(ns, agentPod("metrics-agent-pod", "metrics-session", "coding-agent"));
    stack.assertRefused(
        ns, agentPod("metrics-orphan-pod", "no-such-session", "coding-agent"), "no-such-session");
    // A request that is no AdmissionReview: answered 400 and counted as a webhook error.
    new AdmissionClient(stack.operator.webhookPort(), stack.operator.caBundlePem()).post("{}");
    stack
        .client
        .resources(dev.capgate.api.v1alpha1.AgentSession.class)
        .inNamespace(ns)
        .withName("metrics-session")
        .delete();
    await("the reconciler counted")
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              metrics = scrape();
              assertThat(metrics)
                  .contains("operator_sdk_reconciliations_started_total")
                  .containsPattern(
                      "capgate_admission_duration_seconds_count\\{outcome=\"patched\"[^}]*\\} [1-9]")
                  .containsPattern(
                      "capgate_admission_duration_seconds_count\\{outcome=\"denied\"[^}]*\\} [1-9]")
                  .containsPattern(
                      "capgate_webhook_errors_total\\{kind=\"bad_request\"[^}]*\\} [1-9]")
                  .containsPattern("capgate_pod_ca_mints_total(\\{[^}]*\\})? [1-9]");
            });
  }

  static String scrape() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + stack.operator.metricsPort() + "/metrics"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    return response.body();
  }

  @Test
  void promtool_finds_nothing_to_lint() {
    PrometheusLint.checkEndpoint("operator", metrics);
  }

  @Test
  void labels_name_no_pod_session_or_namespace() {
    assertThat(metrics)
        .doesNotContain(ns, "metrics-session", "metrics-agent-pod", "metrics-orphan-pod")
        .doesNotContainPattern("[{,](name|namespace|pod|session|path)=\"");
    assertThat(metrics)
        .contains(
            "capgate_vault_requests_total{operation=\"login\",outcome=\"unreachable\"}",
            "capgate_revocations_total{kind=\"lease\",outcome=\"failed\"}",
            "# TYPE capgate_admission_duration_seconds histogram");
  }

  @Test
  void the_operator_alerts_and_dashboard_read_served_metrics() {
    // JOSDK registers its failed-reconciliation counter on the first failure, so a run whose
    // reconciles all succeed does not serve it (the dashboard then shows no data, as it should);
    // its sibling counter proves JOSDK's metrics reach the endpoint.
    assertThat(PrometheusLint.sampleNames(metrics))
        .contains("operator_sdk_reconciliations_started_total");
    var alerts =
        PrometheusLint.checkChartReads(
            "operator",
            metrics,
            CHART_FILES,
            "Operator",
            java.util.Set.of("operator_sdk_reconciliations_failed_total"));
    assertThat(alerts.keySet())
        .contains("CapgateWebhookErrors", "CapgateVaultUnreachable", "CapgateRevocationsFailing");
  }

  @Test
  void promtool_accepts_the_rule_file() {
    ProcessResult check = PrometheusLint.checkRules(RULES);
    assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();
  }
}
