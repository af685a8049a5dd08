package dev.capgate.sidecar.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The registry on the Prometheus client: names, types, callbacks, and a hot path that allocates
 * nothing.
 */
class MetricsTest {
  private final Metrics metrics = new Metrics();

  @Test
  void renders_the_prometheus_text_format_with_help_type_and_base_units() {
    Counter decisions = metrics.counter("capgate_test_decisions_total", "Decisions", "rule");
    decisions.labelValues("github-api").inc();
    metrics.secondsHistogram("capgate_test_duration_seconds", "Latency").observe(0.003);
    AtomicLong hits = new AtomicLong(7);
    metrics.counterFunction("capgate_test_hits_total", "Hits", hits::get);
    metrics.gauge("capgate_test_size", "Size", () -> 3);

    String text = metrics.render();
    assertThat(metrics.contentType()).startsWith("text/plain; version=0.0.4");
    assertThat(text.lines())
        .contains(
            "# TYPE capgate_test_decisions_total counter",
            "capgate_test_decisions_total{rule=\"github-api\"} 1.0",
            "# TYPE capgate_test_duration_seconds histogram",
            "capgate_test_duration_seconds_bucket{le=\"0.0025\"} 0",
            "capgate_test_duration_seconds_bucket{le=\"0.005\"} 1",
            "capgate_test_duration_seconds_bucket{le=\"+Inf\"} 1",
            "capgate_test_duration_seconds_count 1",
            "capgate_test_hits_total 7.0",
            "# TYPE capgate_test_size gauge",
            "capgate_test_size 3.0");
    hits.set(9);
    assertThat(metrics.render().lines()).contains("capgate_test_hits_total 9.0");
  }

  @Test
  void a_known_series_is_counted_without_allocating() {
    Counter counter = metrics.counter("capgate_test_total", "Test", "rule", "outcome");
    Metrics.Series<String, CounterDataPoint> series =
        new Metrics.Series<>(rule -> counter.labelValues(rule, "allow"));
    String rule = "github-api";
    for (int i = 0; i < 200_000; i++) { // warm: the JIT, the child, the map
      series.of(rule).inc();
    }
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().threadId();
    long before = threads.getThreadAllocatedBytes(thread);
    for (int i = 0; i < 100_000; i++) {
      series.of(rule).inc();
    }
    long allocated = threads.getThreadAllocatedBytes(thread) - before;
    // labelValues(...) alone wraps its varargs in a list and looks the series up on every call.
    assertThat(allocated).as("bytes allocated by 100,000 counts").isLessThan(16 * 1024);
    assertThat(series.of(rule)).isSameAs(counter.labelValues(rule, "allow"));
    assertThat(metrics.render().lines())
        .contains("capgate_test_total{outcome=\"allow\",rule=\"github-api\"} 300000.0");
  }
}
