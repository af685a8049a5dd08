package dev.capgate.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The project's targets next to what this run measured: ✓ / ✗, never an assertion. */
final class Targets {
  private Targets() {}

  static void print(
      Section s, DataPlaneBench data, ControlPlaneBench control, SidecarMemoryBench sidecar) {
    Table t =
        new Table(
            "Targets (measured in this run; ✓ met, ✗ missed, ? not measured)",
            "target",
            "goal",
            "measured",
            "");
    JsonArray json = new JsonArray();
    if (data != null) {
      for (String protocol : new String[] {"HTTP/1.1", "HTTP/2"}) {
        DataPlaneBench.Row d = data.direct(protocol);
        DataPlaneBench.Row c = row(data, "Capgate", protocol);
        String p = " (" + protocol + ")";
        Double addedP50 = null;
        Double addedP99 = null;
        if (d != null && c != null && d.paced != null && c.paced != null) {
          addedP50 = c.paced.latencyMs().percentile(50) - d.paced.latencyMs().percentile(50);
          addedP99 = c.paced.latencyMs().percentile(99) - d.paced.latencyMs().percentile(99);
        }
        add(
            t,
            json,
            "added latency p50 at 1,000 rps, keep-alive" + p,
            "≤ 0.3 ms",
            addedP50,
            0.3,
            true,
            "ms",
            3);
        add(
            t,
            json,
            "added latency p99 at 1,000 rps, keep-alive" + p,
            "≤ 1 ms",
            addedP99,
            1.0,
            true,
            "ms",
            3);
        Double ofDirect =
            d != null && c != null && d.keepAlive != null && c.keepAlive != null
                ? c.keepAlive.rps() / d.keepAlive.rps()
                : null;
        add(
            t,
            json,
            "throughput through Capgate vs direct, keep-alive c=16" + p,
            "≥ 50 %",
            ofDirect == null ? null : ofDirect * 100,
            50,
            false,
            "%",
            0);
        DataPlaneBench.Row best = null;
        for (DataPlaneBench.Row r : data.rows()) {
          if (r.proxied
              && !r.target.equals("Capgate")
              && r.protocol.equals(protocol)
              && r.keepAlive != null
              && (best == null || r.keepAlive.rps() > best.keepAlive.rps())) {
            best = r;
          }
        }
        Double ofPeer =
            best != null && c != null && c.keepAlive != null
                ? c.keepAlive.rps() / best.keepAlive.rps()
                : null;
        add(
            t,
            json,
            "throughput through Capgate vs the best peer"
                + (best == null ? "" : " (" + best.target + ")")
                + p,
            "≥ 3×",
            ofPeer,
            3,
            false,
            "×",
            2);
        Double cores = c == null || c.paced == null ? null : c.coresPer1000Rps();
        add(
            t,
            json,
            "Capgate CPU per 1,000 rps (at 1,000 rps, keep-alive)" + p,
            "≤ 0.15 core",
            cores,
            0.15,
            true,
            "cores",
            3);
      }
      DataPlaneBench.Row c = row(data, "Capgate", "HTTP/1.1");
      add(
          t,
          json,
          "sidecar RSS idle (started, one request served)",
          "≤ 96 MiB",
          c == null || Double.isNaN(c.rssIdle) ? null : c.rssIdle,
          96,
          true,
          "MiB",
          1);
    }
    if (sidecar != null) {
      add(
          t,
          json,
          "sidecar RSS with "
              + SidecarMemoryBench.IDLE_CONNECTIONS
              + " idle agent connections (TLS, keep-alive)",
          "≤ 96 MiB (the under-load ceiling)",
          sidecar.figure("connections"),
          96,
          true,
          "MiB",
          1);
      add(
          t,
          json,
          "sidecar RSS with the largest legal AgentSession",
          "≤ 96 MiB (the under-load ceiling)",
          sidecar.figure("largestSession"),
          96,
          true,
          "MiB",
          1);
    }
    if (control != null) {
      add(
          t,
          json,
          "admission p99 (webhook, CA mint included)",
          "≤ 50 ms",
          control.admissionWith == null ? null : control.admissionWith.percentile(99),
          50,
          true,
          "ms",
          1);
      add(
          t,
          json,
          "admission p99 added by the webhook",
          "≤ 20 ms",
          control.admissionWith == null || control.admissionWithout == null
              ? null
              : control.admissionWith.percentile(99) - control.admissionWithout.percentile(99),
          20,
          true,
          "ms",
          1);
      add(
          t,
          json,
          "admission at scale: p99 added by the webhook",
          "≤ 50 ms",
          control.scaleWith == null || control.scaleWithout == null || control.scaleErrors != 0
              ? null
              : control.scaleWith.percentile(99) - control.scaleWithout.percentile(99),
          50,
          true,
          "ms",
          1);
      add(
          t,
          json,
          "admission at scale: operator RSS growth (end − start, no errors)",
          "≤ 32 MiB",
          Double.isNaN(control.scaleRssEnd) || control.scaleErrors != 0
              ? null
              : control.scaleRssEnd - control.scaleRssStart,
          32,
          true,
          "MiB",
          1);
      add(
          t,
          json,
          "operator RSS peak during admission at scale",
          "≤ 256 MiB",
          Double.isNaN(control.scaleRssPeak) ? null : control.scaleRssPeak,
          256,
          true,
          "MiB",
          1);
      add(
          t,
          json,
          "revocation p99 (delete → first refusal, each sidecar)",
          "≤ 1 s",
          control.revocationPerSidecar == null ? null : control.revocationPerSidecar.percentile(99),
          1000,
          true,
          "ms",
          0);
      add(
          t,
          json,
          "revocation p99 (all sidecars of the session refusing)",
          "≤ 1 s",
          control.revocationAll == null ? null : control.revocationAll.percentile(99),
          1000,
          true,
          "ms",
          0);
      add(
          t,
          json,
          "sidecar start-to-ready p50, the image's AOT cache (aot-train)",
          "≤ 0.3 s",
          control.startImageAot == null ? null : control.startImageAot.percentile(50),
          300,
          true,
          "ms",
          0);
      add(
          t,
          json,
          "sidecar start-to-ready p50, no AOT cache",
          "≤ 0.5 s",
          control.startPlain == null ? null : control.startPlain.percentile(50),
          500,
          true,
          "ms",
          0);
    }
    s.json.put("targets", json);
    s.add(t);
  }

  private static DataPlaneBench.Row row(DataPlaneBench data, String target, String protocol) {
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
        value == null || value.isNaN()
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
            .put("met", value == null || value.isNaN() ? null : verdict.equals("✓")));
  }
}
