package dev.capgate.sidecar.admin;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A deliberately tiny Prometheus registry: counters, gauges and fixed-bucket histograms, lock-free
 * on the hot path (LongAdder), rendered in the text exposition format. Label values are rule names,
 * outcomes and actions, never request data and never secret material.
 */
public final class Metrics {
  /** Seconds: from sub-millisecond local denials to slow upstreams. */
  private static final double[] BUCKETS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  private final Map<String, Family> families = new ConcurrentHashMap<>();

  private sealed interface Family permits Counters, Gauge, CounterFunction, Histograms {
    String help();
  }

  /**
   * Series are keyed by their label pairs as given (name, value, name, value): the label text is
   * built when rendering, not on every count (it was a few percent of the allocation under load).
   */
  private record Counters(String help, Map<List<String>, LongAdder> series) implements Family {}

  private record Gauge(String help, Supplier<Number> value) implements Family {}

  private record CounterFunction(String help, LongSupplier value) implements Family {}

  private record Histograms(String help, Map<List<String>, Histogram> series) implements Family {}

  private static final class Histogram {
    final LongAdder[] buckets = new LongAdder[BUCKETS.length];
    final LongAdder count = new LongAdder();
    final DoubleAdder sum = new DoubleAdder();

    Histogram() {
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new LongAdder();
      }
    }

    void observe(double value) {
      for (int i = 0; i < BUCKETS.length; i++) {
        if (value <= BUCKETS[i]) {
          buckets[i].increment();
          break; // cumulated at render time
        }
      }
      count.increment();
      sum.add(value);
    }
  }

  /** Adds one to {@code name{labels}}; labels as alternating name, value. */
  public void increment(String name, String help, String... labels) {
    Family family =
        families.computeIfAbsent(name, n -> new Counters(help, new ConcurrentHashMap<>()));
    if (family instanceof Counters counters) {
      seriesOf(counters.series(), labels, LongAdder::new).increment();
    }
  }

  public void observe(String name, String help, double seconds, String... labels) {
    Family family =
        families.computeIfAbsent(name, n -> new Histograms(help, new ConcurrentHashMap<>()));
    if (family instanceof Histograms histograms) {
      seriesOf(histograms.series(), labels, Histogram::new).observe(seconds);
    }
  }

  /** The series of {@code labels}; a plain get first, so that a known series allocates nothing. */
  private static <T> T seriesOf(Map<List<String>, T> series, String[] labels, Supplier<T> create) {
    T existing = series.get(Arrays.asList(labels));
    if (existing != null) {
      return existing;
    }
    String[] key = labels.clone(); // the caller's array may change; an absent value renders as ""
    for (int i = 0; i < key.length; i++) {
      key[i] = key[i] == null ? "" : key[i];
    }
    return series.computeIfAbsent(List.of(key), l -> create.get());
  }

  public void gauge(String name, String help, Supplier<Number> value) {
    families.put(name, new Gauge(help, value));
  }

  public void counterFunction(String name, String help, LongSupplier value) {
    families.put(name, new CounterFunction(help, value));
  }

  /** The Prometheus text format (version 0.0.4), families sorted by name. */
  public String render() {
    StringBuilder out = new StringBuilder(2048);
    new TreeMap<>(families)
        .forEach(
            (name, family) -> {
              out.append("# HELP ").append(name).append(' ').append(family.help()).append('\n');
              switch (family) {
                case Counters c -> {
                  out.append("# TYPE ").append(name).append(" counter\n");
                  byLabelText(c.series())
                      .forEach(
                          (labels, v) ->
                              out.append(name)
                                  .append(labels)
                                  .append(' ')
                                  .append(v.sum())
                                  .append('\n'));
                }
                case CounterFunction c ->
                    out.append("# TYPE ")
                        .append(name)
                        .append(" counter\n")
                        .append(name)
                        .append(' ')
                        .append(c.value().getAsLong())
                        .append('\n');
                case Gauge g ->
                    out.append("# TYPE ")
                        .append(name)
                        .append(" gauge\n")
                        .append(name)
                        .append(' ')
                        .append(g.value().get())
                        .append('\n');
                case Histograms h -> {
                  out.append("# TYPE ").append(name).append(" histogram\n");
                  byLabelText(h.series())
                      .forEach((labels, hist) -> renderHistogram(out, name, labels, hist));
                }
              }
            });
    return out.toString();
  }

  private static void renderHistogram(StringBuilder out, String name, String labels, Histogram h) {
    String inner = labels.isEmpty() ? "" : labels.substring(1, labels.length() - 1) + ",";
    long cumulated = 0;
    for (int i = 0; i < BUCKETS.length; i++) {
      cumulated += h.buckets[i].sum();
      out.append(name)
          .append("_bucket{")
          .append(inner)
          .append("le=\"")
          .append(BUCKETS[i])
          .append("\"} ")
          .append(cumulated)
          .append('\n');
    }
    out.append(name)
        .append("_bucket{")
        .append(inner)
        .append("le=\"+Inf\"} ")
        .append(h.count.sum())
        .append('\n');
    out.append(name).append("_sum").append(labels).append(' ').append(h.sum.sum()).append('\n');
    out.append(name).append("_count").append(labels).append(' ').append(h.count.sum()).append('\n');
  }

  /** The series sorted by their label text, as rendered. */
  private static <T> Map<String, T> byLabelText(Map<List<String>, T> series) {
    Map<String, T> sorted = new TreeMap<>();
    series.forEach((pairs, value) -> sorted.put(labels(pairs), value));
    return sorted;
  }

  private static String labels(List<String> pairs) {
    if (pairs.isEmpty()) {
      return "";
    }
    StringBuilder s = new StringBuilder("{");
    for (int i = 0; i + 1 < pairs.size(); i += 2) {
      if (i > 0) {
        s.append(',');
      }
      s.append(pairs.get(i)).append("=\"").append(escape(pairs.get(i + 1))).append('"');
    }
    return s.append('}').toString();
  }

  private static String escape(String value) {
    if (value == null) {
      return "";
    }
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
