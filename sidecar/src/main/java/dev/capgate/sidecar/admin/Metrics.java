package dev.capgate.sidecar.admin;

import io.prometheus.metrics.core.datapoints.DataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.StatefulMetric;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The sidecar's metrics on the Prometheus Java client (core + its text format, no HTTP server of
 * its own: {@link AdminServer} serves {@link #render}). The lightest well-kept library for the job
 * in a process every agent pod carries (sidecar/README.md, "Metrics"; docs/metrics.md lists the
 * names). Each owner registers its families here once ({@code AuditRecorder}, {@code
 * AgentTlsContexts}); label values are rule names, credentials, outcomes and actions from the
 * session and the code, never request data and never secret material.
 *
 * <p>Exemplars are off: there is no tracer to take them from, and sampling them would cost every
 * observation a check.
 */
public final class Metrics {
  /** Seconds: from sub-millisecond local denials to slow upstreams. */
  public static final double[] SECONDS_BUCKETS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();

  private final PrometheusRegistry registry = new PrometheusRegistry();

  /** A counter; {@code name} ends with {@code _total}. */
  public Counter counter(String name, String help, String... labelNames) {
    return Counter.builder()
        .name(name)
        .help(help)
        .labelNames(labelNames)
        .withoutExemplars()
        .register(registry);
  }

  /** A histogram in seconds with {@link #SECONDS_BUCKETS} (classic buckets only). */
  public Histogram secondsHistogram(String name, String help, String... labelNames) {
    return Histogram.builder()
        .name(name)
        .help(help)
        .labelNames(labelNames)
        .classicOnly()
        .classicUpperBounds(SECONDS_BUCKETS)
        .withoutExemplars()
        .register(registry);
  }

  /** A gauge read when scraped. */
  public void gauge(String name, String help, DoubleSupplier value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .callback(cb -> cb.call(value.getAsDouble()))
        .register(registry);
  }

  /** A counter kept elsewhere, read when scraped; {@code name} ends with {@code _total}. */
  public void counterFunction(String name, String help, LongSupplier value) {
    CounterWithCallback.builder()
        .name(name)
        .help(help)
        .callback(cb -> cb.call(value.getAsLong()))
        .register(registry);
  }

  /** The content type of {@link #render}: the Prometheus text format 0.0.4. */
  public String contentType() {
    return TEXT.getContentType();
  }

  /** Every family in the Prometheus text format (version 0.0.4). */
  public String render() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
    try {
      TEXT.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /**
   * The series of a labelled metric, cached by a key of the caller's (an enum, a rule name): a
   * known series costs one map lookup and allocates nothing, where {@link
   * StatefulMetric#labelValues} would build a label list on every call.
   */
  public static final class Series<K, D extends DataPoint> {
    private final ConcurrentHashMap<K, D> children = new ConcurrentHashMap<>();
    private final Function<K, D> create;

    /**
     * @param create the series of a key, e.g. {@code rule -> counter.labelValues(rule, "deny")};
     *     called once per key
     */
    public Series(Function<K, D> create) {
      this.create = create;
    }

    public D of(K key) {
      D child = children.get(key);
      return child != null ? child : children.computeIfAbsent(key, create);
    }
  }
}
