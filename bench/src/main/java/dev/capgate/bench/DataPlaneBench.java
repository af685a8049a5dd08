package dev.capgate.bench;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Limits;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.UnixSocketBridge;
import dev.capgate.sidecar.netns.UpstreamServers;
import dev.capgate.testkit.OpenBaoServer;
import dev.capgate.testkit.Pki;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
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
  private BenchPod pod;
  private H2load h2load;
  private ProxyUnderTest.PodFiles files;
  private Path sessionFile;

  /** The same session with rule and session limits that never trigger at bench rates. */
  private Path limitedSessionFile;

  private Path vaultToken;
  private final String url = "https://" + BenchPod.UPSTREAM_HOST + PATH;
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
    String secret = "ghp_bench" + HexFormat.of().formatHex(SecureRandom.getSeed(10));
    OpenBaoServer bao = OpenBaoServer.shared();
    String mount = bao.newKvMount();
    bao.request(
        "POST",
        mount + "/data/github/alice@example.com",
        new JsonObject().put("data", new JsonObject().put("token", secret)).encode());
    bao.request(
        "POST",
        "sys/policies/acl/capgate-bench-" + mount,
        new JsonObject()
            .put("policy", "path \"" + mount + "/data/*\" { capabilities = [\"read\"] }")
            .encode());
    String token =
        new JsonObject(
                bao.request(
                    "POST",
                    "auth/token/create",
                    new JsonObject()
                        .put("policies", new JsonArray().add("capgate-bench-" + mount))
                        .put("ttl", "2h")
                        .encode()))
            .getJsonObject("auth")
            .getString("client_token");

    pod = BenchPod.create("bench-dataplane", options.sidecarJar());
    try (UnixSocketBridge vaultBridge = startVaultBridge(bao)) {
      writeFiles(mount, secret, token);
      startUpstream();
      h2load = new H2load(pod, url);
      measureAll();
    } finally {
      pod.close();
    }
    print();
  }

  private UnixSocketBridge startVaultBridge(OpenBaoServer bao) throws IOException {
    URI uri = URI.create(bao.address());
    return UnixSocketBridge.start(
        UnixDomainSocketAddress.of(pod.scratch().resolve("vault.sock")),
        new InetSocketAddress(uri.getHost(), uri.getPort()));
  }

  /**
   * The upstream's server certificate (in the pod's scratch {@code pki/}, read by the upstream
   * servers) and a pod CA whose key only the proxy's uid reads: the files every bench sidecar
   * starts with.
   */
  static ProxyUnderTest.PodFiles writePki(BenchPod pod, String secret) throws IOException {
    Path dir = pod.scratch().resolve("pki");
    Files.createDirectories(dir);
    Pki upstreamCa = new Pki("bench upstream CA");
    upstreamCa
        .issueServer(
            "upstream",
            List.of(BenchPod.UPSTREAM_HOST),
            List.of(UpstreamServers.V4, UpstreamServers.V6))
        .writeTo(dir, "server");
    Pki podCa = new Pki("capgate pod CA (bench)");
    Path caCert = Files.writeString(dir.resolve("pod-ca.crt"), podCa.caCertPem());
    Path caKey = Files.writeString(dir.resolve("pod-ca.key"), podCa.caKeyPem());
    Path upCa = Files.writeString(dir.resolve("upstream-ca.crt"), upstreamCa.caCertPem());
    owned(caKey, BenchPod.PROXY_UID, "400");
    return new ProxyUnderTest.PodFiles(caCert, caKey, upCa, secret);
  }

  private void writeFiles(String mount, String secret, String token) throws IOException {
    files = writePki(pod, secret);
    sessionFile =
        Files.writeString(pod.scratch().resolve("session.json"), session(mount, null).json());
    // Every limit on, at its maximum: each request takes a token, a slot and budget, and none is
    // ever refused at what h2load sends here (issue 16 §4: the limiter must not move the figures).
    Limits neverTrigger =
        new Limits(
            (int) Limits.MAX_RATE,
            (int) Limits.MAX_BURST,
            (int) Limits.MAX_CONCURRENT,
            (long) Limits.MAX_REQUESTS,
            (long) Limits.MAX_BYTES);
    limitedSessionFile =
        Files.writeString(
            pod.scratch().resolve("session-limits.json"),
            session(mount, neverTrigger).limits(neverTrigger).json());
    vaultToken = Files.writeString(pod.scratch().resolve("vault-token"), token);
    owned(vaultToken, BenchPod.PROXY_UID, "400");
  }

  private static AgentSessionBuilder session(String mount, Limits ruleLimits) {
    return AgentSessionBuilder.session("bench")
        .namespace("agents")
        .user("alice@example.com")
        .agent("bench-agent")
        .vaultRole("capgate-agent")
        .credential(kv2("github", mount + "/data/github/{{user}}", "token").bearer())
        .egress(
            rule("github-api")
                .hosts(BenchPod.UPSTREAM_HOST)
                .methods(GET, POST)
                .paths("/repos/acme/repo-a", "/repos/acme/repo-a/**")
                .credential("github")
                .limits(ruleLimits));
  }

  static void owned(Path file, int uid, String mode) {
    Command.run(List.of("chown", uid + ":" + uid, file.toString())).requireSuccess();
    Command.run(List.of("chmod", mode, file.toString())).requireSuccess();
  }

  private void startUpstream() {
    Path dir = pod.scratch().resolve("pki");
    Path log = pod.scratch().resolve("upstream.log");
    Process p =
        pod.start(
            pod.inUpstream(
                BenchUpstream.command(
                    List.of("-Xmx256m"),
                    dir,
                    2,
                    UpstreamServers.V4 + ":8200",
                    pod.scratch().resolve("vault.sock").toString())),
            log,
            Map.of());
    BenchPod.awaitLine(p, log, "{\"ready\":true}", Duration.ofSeconds(60));
    setups.put(
        "upstream",
        "Vert.x 5 HTTPS (JDK TLS), 2 event loops, h2 + http/1.1, 1 KiB body, in the upstream netns");
  }

  // ------------------------------------------------------------------ measuring

  private void measureAll() {
    measureTarget("direct", null);
    measureTarget(
        "Capgate",
        () ->
            ProxyUnderTest.capgate(
                pod,
                options.sidecarJar(),
                options.sidecarJvmFlags(),
                sessionFile,
                files,
                vaultToken,
                url));
    measureTarget(
        "Capgate + limits",
        () ->
            ProxyUnderTest.capgate(
                pod,
                options.sidecarJar(),
                options.sidecarJvmFlags(),
                limitedSessionFile,
                files,
                vaultToken,
                url));
    if (options.peers()) {
      measureTarget("Squid", () -> ProxyUnderTest.squid(pod, files, url));
      measureTarget(
          "mitmproxy", () -> ProxyUnderTest.mitmproxy(pod, options.mitmVenv(), files, url));
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
      double rssIdle = pid < 0 ? Double.NaN : settledRss(pid);
      boolean h2 = proxy == null || proxy.offersH2();
      // Warm-up, not measured: JIT, TLS machinery, leaf cache, credential cache.
      warmUp(target, uid, true);
      if (h2) {
        warmUp(target, uid, false);
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
        double after = settledRss(pid);
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
    long[] up0 = upstreamStats();
    double cpu0 = cpu(pid);
    DoubleAccumulator rssMax = new DoubleAccumulator(Math::max, 0);
    AtomicBoolean sampling = new AtomicBoolean(pid >= 0);
    Thread sampler =
        Thread.ofVirtual()
            .start(
                () -> {
                  while (sampling.get()) {
                    rssMax.accumulate(Proc.rssMiB(pid));
                    sleep(200);
                  }
                });
    row.keepAlive =
        h2load.run(
            uid, h1, List.of("-c", "" + CONCURRENCY, "-D", d), false, timeout(options.duration()));
    row.keepAliveCpu = cpu(pid) - cpu0;
    sampling.set(false);
    join(sampler);
    long[] up1 = upstreamStats();
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
    cpu0 = cpu(pid);
    row.paced =
        h2load.run(
            uid,
            h1,
            List.of("-c", "" + RATE_CLIENTS, "--rps", "" + RATE_PER_CLIENT, "-D", d),
            true,
            timeout(options.duration()));
    row.pacedCpu = cpu(pid) - cpu0;

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
          h2load.run(
              uid,
              true,
              List.of(
                  "-c", "" + CONCURRENCY, "-n", "" + CONCURRENCY * 20, "-H", "Connection: close"),
              false,
              Duration.ofSeconds(120));
      long n =
          Math.max(
              CONCURRENCY * 20L,
              Math.min(
                  40_000L,
                  Math.round(calibration.rps() * options.duration().toSeconds() / CONCURRENCY)
                      * CONCURRENCY));
      cpu0 = cpu(pid);
      row.newConn =
          h2load.run(
              uid,
              true,
              List.of("-c", "" + CONCURRENCY, "-n", "" + n, "-H", "Connection: close"),
              false,
              timeout(options.duration().multipliedBy(4)));
      row.newConnCpu = cpu(pid) - cpu0;
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
        h2load.run(
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
            timeout(options.duration().multipliedBy(3)));
  }

  /**
   * The same for every row: keep-alive rounds of a fixed request count (count-bound runs never
   * hang; h2load's -D sometimes does when it stops clients that are still handshaking) until the
   * last three rounds agree within 10 % on the rate, at least {@code warmUp} and at most 6 × that;
   * HTTP/1.1 then three rounds of new connections.
   */
  private void warmUp(String target, int uid, boolean h1) {
    long started = System.nanoTime();
    long min = options.warmUp().toNanos();
    long max = options.warmUp().multipliedBy(6).toNanos();
    long n = 1_600;
    List<Double> seen = new ArrayList<>();
    List<String> rates = new ArrayList<>();
    while (true) {
      H2load.Result r =
          h2load.run(
              uid,
              h1,
              List.of("-c", "" + CONCURRENCY, "-n", "" + n),
              false,
              Duration.ofSeconds(120));
      rates.add(f0(r.rps()));
      seen.add(r.rps());
      long elapsed = System.nanoTime() - started;
      if ((elapsed >= min && stable(seen)) || elapsed >= max) {
        break;
      }
      // About 2 s per round at the current rate.
      n =
          Math.max(
              CONCURRENCY * 20L,
              Math.min(200_000L, Math.round(r.rps() * 2 / CONCURRENCY) * CONCURRENCY));
    }
    if (h1) {
      // The new-connection path too (TLS handshakes on both sides of the proxy).
      for (int i = 0; i < 3; i++) {
        H2load.Result r =
            h2load.run(
                uid,
                true,
                List.of(
                    "-c", "" + CONCURRENCY, "-n", "" + CONCURRENCY * 50, "-H", "Connection: close"),
                false,
                Duration.ofSeconds(120));
        rates.add("close " + f0(r.rps()));
      }
    }
    Bench.say(
        "  "
            + target
            + (h1 ? " HTTP/1.1" : " HTTP/2")
            + " warm-up rounds (rps): "
            + String.join(", ", rates));
  }

  /** The last three rounds within 10 % of each other (a JIT still ramping up is not stable). */
  private static boolean stable(List<Double> rps) {
    if (rps.size() < 3) {
      return false;
    }
    List<Double> last = rps.subList(rps.size() - 3, rps.size());
    double lo = last.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    double hi = last.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    return hi <= lo * 1.1;
  }

  private static Duration timeout(Duration d) {
    return d.plusSeconds(40);
  }

  private static double cpu(long pid) {
    return pid < 0 ? 0 : Proc.cpuSeconds(pid);
  }

  /** RSS once it stops moving (a second apart, within 1 MiB), at most 5 s. */
  private static double settledRss(long pid) {
    double last = Proc.rssMiB(pid);
    for (int i = 0; i < 5; i++) {
      sleep(1000);
      double now = Proc.rssMiB(pid);
      if (Math.abs(now - last) < 1) {
        return now;
      }
      last = now;
    }
    return last;
  }

  /** [requests, requests carrying the header] as the upstream counted them. */
  private long[] upstreamStats() {
    Command.Result r =
        pod.runInUpstream(
            Duration.ofSeconds(10),
            List.of("curl", "-s", "-m", "5", "http://127.0.0.1:8080/stats"));
    try {
      JsonObject o = new JsonObject(r.stdout());
      return new long[] {o.getLong("requests"), o.getLong("withHeader")};
    } catch (RuntimeException e) {
      return new long[] {0, 0};
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
            .put("url", url)
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
                    + " new connections/s")
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
