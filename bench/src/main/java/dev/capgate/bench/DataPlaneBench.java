package dev.capgate.bench;

import dev.capgate.sidecar.netns.Command;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.DoubleAccumulator;

/**
 * Section 1: the data plane. One pod namespace with the real init rules, one HTTPS upstream (1 KiB
 * answers, h1 + h2) in the upstream namespace, h2load as the only load generator, and these rows,
 * one after the other in the same run: direct (h2load as uid 1447, which the rules exempt),
 * Capgate, Capgate + limits (the same session with every rule and session limit on at its maximum,
 * so none triggers: what the limiter costs), Squid, mitmproxy (each on 14001 as uid 1447, h2load as
 * the agent, uid 1000), and direct again at the end to show how much the machine drifted meanwhile.
 */
final class DataPlaneBench {
  static final int CONCURRENCY = 16;
  static final int RATE_CLIENTS = 10;
  static final int RATE_PER_CLIENT = 100; // 10 × 100 = 1,000 rps
  static final int NEW_CONN_PER_SECOND = 100;
  static final String PATH = "/repos/acme/repo-a/issues?state=open";

  record Options(
      Duration duration,
      Duration warmUp,
      Path sidecarJar,
      Path mitmVenv,
      List<String> sidecarJvmFlags,
      boolean peers) {}

  /** One target × protocol: every figure of the tables. */
  static final class Row {
    final String target;
    final String protocol;
    final boolean proxied;
    String actualProtocol;
    H2load.Result keepAlive;
    double keepAliveCpu = Double.NaN;
    double rssLoad = Double.NaN;
    double rssIdle = Double.NaN;
    double rssAfter = Double.NaN;
    H2load.Result paced;
    double pacedCpu = Double.NaN;
    H2load.Result newConn;
    double newConnCpu = Double.NaN;
    H2load.Result newConnPaced;
    long upstreamRequests;
    long upstreamWithHeader;

    Row(String target, String protocol, boolean proxied) {
      this.target = target;
      this.protocol = protocol;
      this.proxied = proxied;
    }

    boolean h1() {
      return protocol.equals("HTTP/1.1");
    }

    double cpuPer10k() {
      return !proxied || keepAlive == null || keepAlive.done() == 0
          ? Double.NaN
          : keepAliveCpu / keepAlive.done() * 10_000;
    }

    double newConnCpuPer10k() {
      return !proxied || newConn == null || newConn.done() == 0
          ? Double.NaN
          : newConnCpu / newConn.done() * 10_000;
    }

    /** CPU cores used at the fixed rate, per 1,000 rps actually achieved. */
    double coresPer1000Rps() {
      if (paced == null || paced.seconds() == 0 || paced.rps() == 0) {
        return Double.NaN;
      }
      return pacedCpu / paced.seconds() / (paced.rps() / 1000.0);
    }

    JsonObject json() {
      JsonObject o =
          new JsonObject()
              .put("target", target)
              .put("protocol", protocol)
              .put("proxied", proxied)
              .put("negotiatedProtocol", actualProtocol);
      if (keepAlive != null) {
        o.put(
            "keepAlive",
            new JsonObject()
                .put("concurrency", CONCURRENCY)
                .put("seconds", keepAlive.seconds())
                .put("rps", keepAlive.rps())
                .put("requests", keepAlive.done())
                .put("problems", keepAlive.problems())
                .put("proxyCpuSeconds", nan(keepAliveCpu))
                .put("proxyCpuSecondsPer10kRequests", nan(cpuPer10k()))
                .put("proxyRssUnderLoadMiB", nan(rssLoad)));
      }
      if (paced != null) {
        o.put(
            "keepAliveAt1000rps",
            new JsonObject()
                .put("clients", RATE_CLIENTS)
                .put("rpsPerClient", RATE_PER_CLIENT)
                .put("achievedRps", paced.rps())
                .put("requests", paced.done())
                .put("problems", paced.problems())
                .put("p50ms", paced.latencyMs().percentile(50))
                .put("p90ms", paced.latencyMs().percentile(90))
                .put("p99ms", paced.latencyMs().percentile(99))
                .put("maxMs", paced.latencyMs().max())
                .put("proxyCpuSeconds", nan(pacedCpu))
                .put("proxyCoresPer1000rps", nan(coresPer1000Rps())));
      }
      if (newConn != null) {
        o.put(
            "newConnection",
            new JsonObject()
                .put("concurrency", CONCURRENCY)
                .put("rps", newConn.rps())
                .put("requests", newConn.done())
                .put("problems", newConn.problems())
                .put("proxyCpuSecondsPer10kRequests", nan(newConnCpuPer10k())));
      }
      if (newConnPaced != null) {
        o.put(
            "newConnectionAt100PerSecond",
            new JsonObject()
                .put("achievedRps", newConnPaced.rps())
                .put("requests", newConnPaced.done())
                .put("problems", newConnPaced.problems())
                .put("p50ms", newConnPaced.latencyMs().percentile(50))
                .put("p90ms", newConnPaced.latencyMs().percentile(90))
                .put("p99ms", newConnPaced.latencyMs().percentile(99)));
      }
      o.put("proxyRssIdleMiB", nan(rssIdle)).put("proxyRssIdleAfterLoadMiB", nan(rssAfter));
      if (proxied) {
        o.put("upstreamRequests", upstreamRequests)
            .put("upstreamRequestsWithHeader", upstreamWithHeader);
      }
      return o;
    }
  }

  private final Options options;
  private final Section section;
  private DataPlaneFixture fixture;
  private final List<Row> rows = new ArrayList<>();
  private final Map<String, String> setups = new LinkedHashMap<>();

  DataPlaneBench(Options options, Section section) {
    this.options = options;
    this.section = section;
  }

  List<Row> rows() {
    return rows;
  }

  void run() throws Exception {
    try (DataPlaneFixture f =
        DataPlaneFixture.open("bench-dataplane", options.sidecarJar(), setups)) {
      fixture = f;
      measureAll();
    }
    print();
  }

  // ------------------------------------------------------------------ measuring

  private void measureAll() {
    measureTarget("direct", null);
    measureTarget(
        "Capgate",
        () ->
            fixture.capgate(
                options.sidecarJar(), options.sidecarJvmFlags(), fixture.sessionFile, List.of()));
    measureTarget(
        "Capgate + limits",
        () ->
            fixture.capgate(
                options.sidecarJar(),
                options.sidecarJvmFlags(),
                fixture.limitedSessionFile,
                List.of()));
    if (options.peers()) {
      measureTarget("Squid", () -> ProxyUnderTest.squid(fixture.pod, fixture.files, fixture.url));
      measureTarget(
          "mitmproxy",
          () ->
              ProxyUnderTest.mitmproxy(
                  fixture.pod, options.mitmVenv(), fixture.files, fixture.url));
    }
    measureTarget("direct (again)", null);
  }

  private void measureTarget(String target, java.util.function.Supplier<ProxyUnderTest> start) {
    Bench.say("data plane: " + target + " (load " + Proc.loadAverage() + ")");
    ProxyUnderTest proxy = null;
    try {
      proxy = start == null ? null : start.get();
      if (proxy != null) {
        setups.put(target, proxy.setup());
      }
      long pid = proxy == null ? -1 : proxy.pid();
      int uid = proxy == null ? BenchPod.PROXY_UID : BenchPod.AGENT_UID;
      double rssIdle = pid < 0 ? Double.NaN : DataPlaneFixture.settledRss(pid);
      boolean h2 = proxy == null || proxy.offersH2();
      // Warm-up, not measured: JIT, TLS machinery, leaf cache, credential cache.
      fixture.warmUp(target, uid, true, options.warmUp());
      if (h2) {
        fixture.warmUp(target, uid, false, options.warmUp());
      }
      List<Row> mine = new ArrayList<>();
      for (boolean h1 : h2 ? new boolean[] {true, false} : new boolean[] {true}) {
        Row row = new Row(target, h1 ? "HTTP/1.1" : "HTTP/2", proxy != null);
        row.rssIdle = rssIdle;
        measure(row, pid, uid);
        mine.add(row);
        rows.add(row);
      }
      if (pid >= 0) {
        double after = DataPlaneFixture.settledRss(pid);
        mine.forEach(r -> r.rssAfter = after);
      }
      if (!h2) {
        Row none = new Row(target, "HTTP/2", true);
        none.actualProtocol = "not offered (HTTP/1.1 only to the agent)";
        rows.add(none);
      }
    } catch (RuntimeException e) {
      Bench.say("data plane: " + target + " FAILED: " + e.getMessage());
      section.json.put("error-" + target, String.valueOf(e.getMessage()));
    } finally {
      if (proxy != null) {
        proxy.close();
      }
    }
  }

  private void measure(Row row, long pid, int uid) {
    boolean h1 = row.h1();
    String d = options.duration().toSeconds() + "s";
    Bench.say(
        "  "
            + row.target
            + " "
            + row.protocol
            + ": keep-alive, "
            + CONCURRENCY
            + " connections, "
            + d);
    long[] up0 = fixture.upstreamStats();
    double cpu0 = DataPlaneFixture.cpu(pid);
    DoubleAccumulator rssMax = new DoubleAccumulator(Math::max, 0);
    AtomicBoolean sampling = new AtomicBoolean(pid >= 0);
    Thread sampler =
        Thread.ofVirtual()
            .start(
                () -> {
                  while (sampling.get()) {
                    rssMax.accumulate(Proc.rssMiB(pid));
                    DataPlaneFixture.sleep(200);
                  }
                });
    row.keepAlive = fixture.keepAlive(uid, h1, options.duration());
    row.keepAliveCpu = DataPlaneFixture.cpu(pid) - cpu0;
    sampling.set(false);
    join(sampler);
    long[] up1 = fixture.upstreamStats();
    row.upstreamRequests = up1[0] - up0[0];
    row.upstreamWithHeader = up1[1] - up0[1];
    row.actualProtocol = row.keepAlive.protocol();
    row.rssLoad = pid >= 0 ? rssMax.get() : Double.NaN;

    Bench.say(
        "  "
            + row.target
            + " "
            + row.protocol
            + ": keep-alive at "
            + RATE_CLIENTS * RATE_PER_CLIENT
            + " rps, "
            + d);
    cpu0 = DataPlaneFixture.cpu(pid);
    row.paced = fixture.paced(uid, h1, options.duration());
    row.pacedCpu = DataPlaneFixture.cpu(pid) - cpu0;

    if (h1) {
      // h2load reconnects after "Connection: close" (HTTP/1.1 only; with -D it hangs, so -n,
      // sized from a short calibration run to last about the same time).
      Bench.say(
          "  "
              + row.target
              + " "
              + row.protocol
              + ": new connection per request, "
              + CONCURRENCY
              + " connections");
      H2load.Result calibration =
          fixture.newConnections(uid, CONCURRENCY, CONCURRENCY * 20L, Duration.ofSeconds(120));
      long n =
          Math.max(
              CONCURRENCY * 20L,
              Math.min(
                  40_000L,
                  Math.round(calibration.rps() * options.duration().toSeconds() / CONCURRENCY)
                      * CONCURRENCY));
      cpu0 = DataPlaneFixture.cpu(pid);
      row.newConn =
          fixture.newConnections(
              uid, CONCURRENCY, n, DataPlaneFixture.timeout(options.duration().multipliedBy(4)));
      row.newConnCpu = DataPlaneFixture.cpu(pid) - cpu0;
    }

    long conns = NEW_CONN_PER_SECOND * options.duration().toSeconds();
    Bench.say(
        "  "
            + row.target
            + " "
            + row.protocol
            + ": new connection per request at "
            + NEW_CONN_PER_SECOND
            + "/s");
    row.newConnPaced =
        fixture.h2load.run(
            uid,
            h1,
            List.of(
                "-r",
                "1",
                "--rate-period",
                (1000 / NEW_CONN_PER_SECOND) + "ms",
                "-c",
                "" + conns,
                "-n",
                "" + conns),
            true,
            DataPlaneFixture.timeout(options.duration().multipliedBy(3)));
  }

  private static void join(Thread t) {
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Object nan(double v) {
    return Double.isNaN(v) ? null : v;
  }

  // ------------------------------------------------------------------ tables

  Row direct(String protocol) {
    return rows.stream()
        .filter(r -> r.target.equals("direct") && r.protocol.equals(protocol))
        .findFirst()
        .orElse(null);
  }

  private void print() {
    JsonArray all = new JsonArray();
    rows.forEach(r -> all.add(r.json()));
    section.json.put("rows", all);
    section.json.put("setup", new JsonObject(new LinkedHashMap<>(setups)));
    section.json.put(
        "method",
        new JsonObject()
            .put("loadGenerator", Command.run(List.of("h2load", "--version")).stdout().strip())
            .put("url", fixture.url)
            .put(
                "keepAlive",
                "h2load -t 1 -m 1 -c "
                    + CONCURRENCY
                    + " -D "
                    + options.duration().toSeconds()
                    + "s")
            .put(
                "fixedRate",
                "h2load -c "
                    + RATE_CLIENTS
                    + " --rps "
                    + RATE_PER_CLIENT
                    + " (= 1,000 rps) -D "
                    + options.duration().toSeconds()
                    + "s --log-file (per-request latency)")
            .put(
                "newConnection",
                "HTTP/1.1: h2load -c "
                    + CONCURRENCY
                    + " -n N -H 'Connection: close' (h2load reconnects);"
                    + " HTTP/2: h2load cannot reconnect per stream, so no throughput figure")
            .put(
                "newConnectionLatency",
                "h2load -r 1 --rate-period "
                    + (1000 / NEW_CONN_PER_SECOND)
                    + "ms -c N -n N: one request per connection, "
                    + NEW_CONN_PER_SECOND
                    + " new connections/s; a new agent connection (and TLS handshake) each"
                    + " time, upstream what each proxy keeps (Capgate: an idle upstream"
                    + " connection of the pod, sidecar/README 'Upstream connections')")
            .put(
                "cpu",
                "utime+stime of the proxy process tree from /proc/<pid>/stat, delta over the run")
            .put(
                "rss",
                "VmRSS of the proxy process tree from /proc/<pid>/status: idle = started and one request served,"
                    + " settled; under load = max of 200 ms samples during the keep-alive run; after = settled after all runs"));

    Table t =
        new Table(
            "Data plane — throughput at concurrency "
                + CONCURRENCY
                + " ("
                + options.duration().toSeconds()
                + " s; ratios against direct measured in this run)",
            "target",
            "protocol",
            "keep-alive rps",
            "× direct",
            "CPU s/10k req",
            "new-conn rps",
            "× direct",
            "CPU s/10k req (new conn)",
            "header on every request");
    for (Row r : rows) {
      Row d = direct(r.protocol);
      if (r.keepAlive == null) {
        t.row(r.target, r.protocol, r.actualProtocol, null, null, null, null, null, null);
        continue;
      }
      t.row(
          r.target,
          r.protocol,
          f0(r.keepAlive.rps()) + flag(r.keepAlive),
          ratio(r.keepAlive.rps(), d == null ? null : d.keepAlive),
          f2(r.cpuPer10k()),
          r.newConn == null ? "n/a" : f0(r.newConn.rps()) + flag(r.newConn),
          r.newConn == null || d == null || d.newConn == null
              ? null
              : ratio(r.newConn.rps(), d.newConn),
          f2(r.newConnCpuPer10k()),
          !r.proxied
              ? "—"
              : (r.upstreamRequests > 0 && r.upstreamRequests == r.upstreamWithHeader ? "✓ " : "✗ ")
                  + r.upstreamWithHeader
                  + "/"
                  + r.upstreamRequests);
    }
    t.note(
        "HTTP/2 new-connection throughput: n/a — h2load reconnects only on HTTP/1.1 'Connection: close'.");
    t.note("Squid offers HTTP/1.1 only to the agent (no h2 row).");
    section.add(t);

    Table l =
        new Table(
            "Data plane — latency at a fixed 1,000 rps, keep-alive ("
                + RATE_CLIENTS
                + " connections × "
                + RATE_PER_CLIENT
                + " rps, "
                + options.duration().toSeconds()
                + " s; ms)",
            "target",
            "protocol",
            "achieved rps",
            "p50",
            "p90",
            "p99",
            "added p50",
            "added p90",
            "added p99",
            "p50 × direct",
            "p99 × direct",
            "proxy cores per 1,000 rps");
    for (Row r : rows) {
      if (r.paced == null) {
        continue;
      }
      Row d = direct(r.protocol);
      Stats s = r.paced.latencyMs();
      Stats ds = d == null || d.paced == null ? null : d.paced.latencyMs();
      l.row(
          r.target,
          r.protocol,
          f0(r.paced.rps()) + flag(r.paced),
          f3(s.percentile(50)),
          f3(s.percentile(90)),
          f3(s.percentile(99)),
          ds == null ? null : signed(s.percentile(50) - ds.percentile(50)),
          ds == null ? null : signed(s.percentile(90) - ds.percentile(90)),
          ds == null ? null : signed(s.percentile(99) - ds.percentile(99)),
          ds == null ? null : f2(s.percentile(50) / ds.percentile(50)) + "×",
          ds == null ? null : f2(s.percentile(99) / ds.percentile(99)) + "×",
          r.proxied ? f3(r.coresPer1000Rps()) : "—");
    }
    section.add(l);

    Table n =
        new Table(
            "Data plane — new connection per request at "
                + NEW_CONN_PER_SECOND
                + " connections/s ("
                + options.duration().toSeconds()
                + " s; ms; TLS handshake(s) included)",
            "target",
            "protocol",
            "achieved rps",
            "p50",
            "p90",
            "p99",
            "added p50",
            "added p99",
            "p50 × direct");
    for (Row r : rows) {
      if (r.newConnPaced == null) {
        continue;
      }
      Row d = direct(r.protocol);
      Stats s = r.newConnPaced.latencyMs();
      Stats ds = d == null || d.newConnPaced == null ? null : d.newConnPaced.latencyMs();
      n.row(
          r.target,
          r.protocol,
          f0(r.newConnPaced.rps()) + flag(r.newConnPaced),
          f3(s.percentile(50)),
          f3(s.percentile(90)),
          f3(s.percentile(99)),
          ds == null ? null : signed(s.percentile(50) - ds.percentile(50)),
          ds == null ? null : signed(s.percentile(99) - ds.percentile(99)),
          ds == null ? null : f2(s.percentile(50) / ds.percentile(50)) + "×");
    }
    n.note(
        "1,000 new TLS connections/s is more than the direct path itself sustains on this machine (JDK TLS"
            + " upstream + h2load on 2 shared cores), so the new-connection rate is "
            + NEW_CONN_PER_SECOND
            + "/s.");
    section.add(n);

    Table m =
        new Table(
            "Data plane — proxy memory (VmRSS, MiB)",
            "proxy",
            "idle (started, 1 request)",
            "under load (max)",
            "idle after the runs");
    for (Row r : rows) {
      if (r.proxied && r.protocol.equals("HTTP/1.1") && r.keepAlive != null) {
        m.row(
            r.target,
            f1(r.rssIdle),
            f1(
                rows.stream()
                    .filter(x -> x.target.equals(r.target))
                    .mapToDouble(x -> Double.isNaN(x.rssLoad) ? 0 : x.rssLoad)
                    .max()
                    .orElse(Double.NaN)),
            f1(r.rssAfter));
      }
    }
    section.add(m);
    Table s = new Table("Data plane — setup", "what", "how");
    setups.forEach(s::row);
    section.add(s);
  }

  static String flag(H2load.Result r) {
    return r.clean() ? "" : " (!" + r.problems() + ")";
  }

  static String ratio(double value, H2load.Result base) {
    return base == null || base.rps() == 0 ? null : f2(value / base.rps()) + "×";
  }

  static String signed(double v) {
    return (v >= 0 ? "+" : "") + f3(v);
  }

  static String f0(double v) {
    return Double.isNaN(v) ? "—" : Proc.fmt(v, 0);
  }

  static String f1(double v) {
    return Double.isNaN(v) ? "—" : Proc.fmt(v, 1);
  }

  static String f2(double v) {
    return Double.isNaN(v) ? "—" : Proc.fmt(v, 2);
  }

  static String f3(double v) {
    return Double.isNaN(v) ? "—" : Proc.fmt(v, 3);
  }
}
