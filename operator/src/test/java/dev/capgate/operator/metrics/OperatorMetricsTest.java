package dev.capgate.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.operator.metrics.OperatorMetrics.AdmissionOutcome;
import dev.capgate.operator.metrics.OperatorMetrics.RevocationOutcome;
import dev.capgate.operator.metrics.OperatorMetrics.VaultOperation;
import dev.capgate.operator.metrics.OperatorMetrics.VaultOutcome;
import dev.capgate.operator.metrics.OperatorMetrics.WebhookError;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The operator's meters under their Prometheus names, every series there from the start. */
class OperatorMetricsTest {
  @Test
  void every_series_exists_at_zero_under_prometheus_names() {
    String text = OperatorMetrics.prometheus().scrape();
    assertThat(text.lines())
        .contains(
            "# TYPE capgate_admission_duration_seconds histogram",
            "capgate_admission_duration_seconds_count{outcome=\"error\"} 0",
            "# TYPE capgate_pod_ca_mints_total counter",
            "capgate_pod_ca_mints_total 0.0",
            "capgate_revocations_total{kind=\"token\",outcome=\"failed\"} 0.0",
            "capgate_vault_requests_total{operation=\"revoke_lease\",outcome=\"unreachable\"} 0.0",
            "capgate_webhook_errors_total{kind=\"internal\"} 0.0");
    assertThat(text).contains("jvm_memory_used_bytes{");
  }

  @Test
  void counts_and_times_what_it_is_told() {
    OperatorMetrics metrics = OperatorMetrics.prometheus();
    metrics.admission(AdmissionOutcome.PATCHED, TimeUnit.MILLISECONDS.toNanos(30));
    metrics.caMinted();
    metrics.revocation(true, RevocationOutcome.REVOKED);
    metrics.vaultRequest(VaultOperation.LOGIN, VaultOutcome.OK);
    metrics.webhookError(WebhookError.BAD_REQUEST);

    assertThat(metrics.scrape().lines())
        .contains(
            "capgate_admission_duration_seconds_bucket{outcome=\"patched\",le=\"0.025\"} 0",
            "capgate_admission_duration_seconds_bucket{outcome=\"patched\",le=\"0.05\"} 1",
            "capgate_admission_duration_seconds_count{outcome=\"patched\"} 1",
            "capgate_admission_duration_seconds_sum{outcome=\"patched\"} 0.03",
            "capgate_pod_ca_mints_total 1.0",
            "capgate_revocations_total{kind=\"lease\",outcome=\"revoked\"} 1.0",
            "capgate_vault_requests_total{operation=\"login\",outcome=\"ok\"} 1.0",
            "capgate_webhook_errors_total{kind=\"bad_request\"} 1.0");
  }

  @Test
  void meters_built_outside_the_operator_are_not_served() {
    OperatorMetrics metrics = OperatorMetrics.unserved();
    metrics.caMinted();
    assertThat(metrics.scrape()).isEmpty();
  }
}
