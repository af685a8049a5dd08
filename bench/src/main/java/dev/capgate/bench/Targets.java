package dev.capgate.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** The project's targets next to what this run measured: ✓ / ✗, never an assertion. */
final class Targets {
  private Targets() {}

  /**
   * Issue 13's rows, in its order, each with its goal: nothing else, so the table is the issue's.
   */
  static void print(
      Section s, DataPlaneBench data, ControlPlaneBench control, SidecarMemoryBench memory) {
    Table t =
        new Table(
            "Targets of issue 13 (measured in this run; ✓ met, ✗ missed, ? not measured)",
            "target",
            "goal",
            "measured",
            "");
    JsonArray json = new JsonArray();
    // Every row is printed: one whose section did not run says "?" (not measured).
    sidecar(t, json, data, memory);
    // Issue 13's two memory rows, held to the under-load ceiling.
    add(
        t,
        json,
        "sidecar RSS with "
            + SidecarMemoryBench.IDLE_CONNECTIONS
            + " idle agent connections (TLS, keep-alive)",
        "≤ 96 MiB",
        memory == null ? null : memory.figure("connections"),
        96,
        true,
        "MiB",
        1);
    add(
        t,
        json,
        "sidecar RSS with the largest legal AgentSession",
        "≤ 96 MiB",
        memory == null ? null : memory.figure("largestSession"),
        96,
        true,
        "MiB",
        1);
    {
      add(
          t,
          json,
          "sidecar start → ready p50, the shipped image's AOT cache",
          "≤ 300 ms",
          control == null || control.startImageAot == null
              ? null
              : control.startImageAot.percentile(50),
          300,
          true,
          "ms",
          0);
    }
    throughputAndLatency(t, json, data);
    control(t, json, control);
    {
      for (String protocol : PROTOCOLS) {
        DataPlaneBench.Row c = row(data, "Capgate", protocol);
        add(
            t,
            json,
            "CPU per 1,000 rps (" + protocol + ")",
            "≤ 0.1 core",
            c == null || c.paced == null ? null : c.coresPer1000Rps(),
            0.1,
            true,
            "cores",
            3);
      }
    }
    atScale(t, json, control);
    s.json.put("targets", json);
    s.add(t);
  }

  private static final String[] PROTOCOLS = {"HTTP/1.1", "HTTP/2"};

  /** The worst of the data plane's Capgate rows and the sidecar memory section's bounded run. */
  private static void sidecar(
      Table t, JsonArray json, DataPlaneBench data, SidecarMemoryBench memory) {
    add(
        t,
        json,
        "sidecar RSS idle",
        "≤ 64 MiB",
        worse(worst(data, r -> r.rssIdle), memory, "idle"),
        64,
        true,
        "MiB",
        1);
    add(
        t,
        json,
        "sidecar RSS under load",
        "≤ 96 MiB",
        worse(worst(data, r -> r.rssLoad), memory, "load"),
        96,
        true,
        "MiB",
        1);
    add(
        t,
        json,
        "sidecar RSS after load",
        "≤ 64 MiB",
        worse(worst(data, r -> r.rssAfter), memory, "afterLoad"),
        64,
        true,
        "MiB",
        1);
  }

  private static void throughputAndLatency(Table t, JsonArray json, DataPlaneBench data) {
    for (String protocol : PROTOCOLS) {
      Double direct =
          bestDirect(data, protocol, r -> r.keepAlive == null ? null : r.keepAlive.rps(), true);
      DataPlaneBench.Row c = row(data, "Capgate", protocol);
      String p = " (" + protocol + ")";
      add(
          t,
          json,
          "keep-alive throughput vs direct, c=16" + p,
          "≥ 50 %",
          direct != null && c != null ? 100 * c.keepAlive.rps() / direct : null,
          50,
          false,
          "%",
          0);
    }
    DataPlaneBench.Row squid = row(data, "Squid", "HTTP/1.1");
    DataPlaneBench.Row capgateH1 = row(data, "Capgate", "HTTP/1.1");
    add(
        t,
        json,
        "keep-alive throughput vs Squid, c=16 (HTTP/1.1)",
        "≥ 3×",
        squid != null && capgateH1 != null
            ? capgateH1.keepAlive.rps() / squid.keepAlive.rps()
            : null,
        3,
        false,
        "×",
        2);
    for (String protocol : PROTOCOLS) {
      DataPlaneBench.Row c = row(data, "Capgate", protocol);
      Double p50 = bestDirect(data, protocol, r -> pacedPercentile(r, 50), false);
      Double p99 = bestDirect(data, protocol, r -> pacedPercentile(r, 99), false);
      boolean both = p50 != null && c != null && c.paced != null;
      String p = " (" + protocol + ")";
      add(
          t,
          json,
          "added latency p50 at 1,000 rps" + p,
          "≤ 0.2 ms",
          both ? c.paced.latencyMs().percentile(50) - p50 : null,
          0.2,
          true,
          "ms",
          3);
      add(
          t,
          json,
          "added latency p99 at 1,000 rps" + p,
          "≤ 0.5 ms",
          both ? c.paced.latencyMs().percentile(99) - p99 : null,
          0.5,
          true,
          "ms",
          3);
    }
    // New connection per request (TLS both sides): added p50 against Squid's, and no failures.
    Double direct =
        bestDirect(
            data,
            "HTTP/1.1",
            r -> r.newConnPaced == null ? null : r.newConnPaced.latencyMs().percentile(50),
            false);
    Double capgateAdded = addedNewConnP50(direct, capgateH1);
    Double squidAdded = addedNewConnP50(direct, squid);
    add(
        t,
        json,
        "new connection per request: added p50 (HTTP/1.1)"
            + (squidAdded == null ? "" : ", Squid +" + Proc.fmt(squidAdded, 2) + " ms"),
        "≤ Squid's",
        capgateAdded,
        squidAdded == null ? Double.NaN : squidAdded,
        true,
        "ms",
        2);
    Double failures = null;
    for (String protocol : PROTOCOLS) {
      DataPlaneBench.Row c = row(data, "Capgate", protocol);
      for (H2load.Result r : c == null ? new H2load.Result[0] : newConnResults(c)) {
        failures = (failures == null ? 0 : failures) + r.failed() + r.errored() + r.non2xx();
      }
    }
    add(t, json, "new connection per request: failed requests", "0", failures, 0, true, "", 0);
  }

  private static H2load.Result[] newConnResults(DataPlaneBench.Row c) {
    return java.util.stream.Stream.of(c.newConn, c.newConnPaced)
        .filter(java.util.Objects::nonNull)
        .toArray(H2load.Result[]::new);
  }

  private static Double pacedPercentile(DataPlaneBench.Row r, double q) {
    return r.paced == null ? null : r.paced.latencyMs().percentile(q);
  }

  private static Double addedNewConnP50(Double direct, DataPlaneBench.Row proxy) {
    if (direct == null || proxy == null || proxy.newConnPaced == null) {
      return null;
    }
    return proxy.newConnPaced.latencyMs().percentile(50) - direct;
  }

  /**
   * The machine drifts during a run (the two direct rows, first and last, have differed by 2× on
   * this 2-core machine): a target is judged against the better of the two, so that drift never
   * flatters Capgate (no negative "added" latency, no ratio against a slow moment). Null when
   * neither row measured it.
   */
  private static Double bestDirect(
      DataPlaneBench data,
      String protocol,
      java.util.function.Function<DataPlaneBench.Row, Double> figure,
      boolean higherIsBetter) {
    if (data == null) {
      return null;
    }
    Double best = null;
    for (DataPlaneBench.Row r : data.rows()) {
      if (!r.protocol.equals(protocol) || !r.target.startsWith("direct")) {
        continue;
      }
      Double v = figure.apply(r);
      if (v == null || v.isNaN()) {
        continue;
      }
      if (best == null || (higherIsBetter ? v > best : v < best)) {
        best = v;
      }
    }
    return best;
  }

  private static void control(Table t, JsonArray json, ControlPlaneBench control) {
    add(
        t,
        json,
        "admission, webhook added p99 (sequential)",
        "≤ 20 ms",
        control == null || control.admissionWith == null || control.admissionWithout == null
            ? null
            : control.admissionWith.percentile(99) - control.admissionWithout.percentile(99),
        20,
        true,
        "ms",
        1);
    add(
        t,
        json,
        "admission, per-pod objects written",
        "≤ 8 KiB",
        control == null || Double.isNaN(control.perPodObjectsKiB) ? null : control.perPodObjectsKiB,
        8,
        true,
        "KiB",
        1);
    // Through 1,000 admissions and 1,000 sessions: the largest of what was sampled, peaks included
    // (sampled every 500 ms over each operator's life).
    double worst =
        control == null
            ? Double.NaN
            : max(
                control.operatorRssIdle,
                control.operatorRssAfterControlPlane,
                control.operatorRssPeakControlPlane,
                control.operatorRssSessions,
                control.operatorRssPeakSessions,
                control.scaleRssPeak);
    add(
        t,
        json,
        "operator RSS (largest sampled: idle, through the admissions, with 1,000 sessions)",
        "≤ 256 MiB",
        Double.isNaN(worst) ? null : worst,
        256,
        true,
        "MiB",
        1);
  }

  private static void atScale(Table t, JsonArray json, ControlPlaneBench control) {
    add(
        t,
        json,
        "admission at scale: webhook added p99",
        "≤ 50 ms",
        control == null || control.scaleWith == null || control.scaleWithout == null
            ? null
            : control.scaleWith.percentile(99) - control.scaleWithout.percentile(99),
        50,
        true,
        "ms",
        1);
    add(
        t,
        json,
        "admission at scale: operator RSS growth (after − before)",
        "flat (≤ 32 MiB)",
        control == null || Double.isNaN(control.scaleRssEnd)
            ? null
            : control.scaleRssEnd - control.scaleRssStart,
        32,
        true,
        "MiB",
        1);
    add(
        t,
        json,
        "admission at scale: errors (refused, failed or CA Secret never stored)",
        "0",
        control == null || control.scaleErrors < 0 ? null : (double) control.scaleErrors,
        0,
        true,
        "",
        0);
  }

  /** The largest value over Capgate's rows (both protocols), null if none was measured. */
  private static Double worst(
      DataPlaneBench data, java.util.function.ToDoubleFunction<DataPlaneBench.Row> value) {
    double worst = Double.NaN;
    for (DataPlaneBench.Row r : data == null ? List.<DataPlaneBench.Row>of() : data.rows()) {
      if (r.target.equals("Capgate")) {
        worst = max(worst, value.applyAsDouble(r));
      }
    }
    return Double.isNaN(worst) ? null : worst;
  }

  private static Double worse(Double data, SidecarMemoryBench memory, String key) {
    double m =
        max(data == null ? Double.NaN : data, memory == null ? Double.NaN : memory.figure(key));
    return Double.isNaN(m) ? null : m;
  }

  private static double max(double... values) {
    double max = Double.NaN;
    for (double v : values) {
      if (!Double.isNaN(v) && (Double.isNaN(max) || v > max)) {
        max = v;
      }
    }
    return max;
  }

  private static DataPlaneBench.Row row(DataPlaneBench data, String target, String protocol) {
    if (data == null) {
      return null;
    }
    return data.rows().stream()
        .filter(r -> r.target.equals(target) && r.protocol.equals(protocol) && r.keepAlive != null)
        .findFirst()
        .orElse(null);
  }

  private static void add(
      Table t,
      JsonArray json,
      String what,
      String goal,
      Double value,
      double limit,
      boolean atMost,
      String unit,
      int decimals) {
    String verdict =
        value == null || value.isNaN() || Double.isNaN(limit)
            ? "?"
            : (atMost ? value <= limit : value >= limit) ? "✓" : "✗";
    String shown = value == null || value.isNaN() ? "—" : Proc.fmt(value, decimals) + " " + unit;
    t.row(what, goal, shown, verdict);
    json.add(
        new JsonObject()
            .put("target", what)
            .put("goal", goal)
            .put("measured", value)
            .put("unit", unit)
            .put("met", verdict.equals("?") ? null : verdict.equals("✓")));
  }
}
