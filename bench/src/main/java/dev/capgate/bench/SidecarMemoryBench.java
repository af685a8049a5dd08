package dev.capgate.bench;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.sidecar.netns.UpstreamServers;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The sidecar's memory rows that depend on what it holds rather than on load (issue 13): the
 * largest AgentSession the CRD schema allows (every maxItems and maxLength at its maximum), and
 * {@value #IDLE_CONNECTIONS} idle agent connections held open (TLS, keep-alive, one request each,
 * so each holds its agent TLS session and its upstream TLS link). File mode, the image's JVM flags,
 * the same pod namespace and init rules as the data plane. No credential is read (no Vault needed):
 * the rows measure policy and connection state. Bounded: one sidecar start per session, connections
 * opened at most {@value #OPEN_SECONDS} s, each RSS settled within 5 s. Also idle, under a bounded
 * load ({@value #LOAD_REQUESTS} requests per pass: HTTP/1.1, HTTP/2, HTTP/1.1 again) and after it,
 * so that the three RSS targets can be measured without the data plane section ({@code --sections
 * sidecar-memory --no-peers}).
 */
final class SidecarMemoryBench {
  static final int IDLE_CONNECTIONS = 1_000;
  static final int OPEN_SECONDS = 300;
  static final int LOAD_REQUESTS = 5_000;
  static final int LOAD_CONNECTIONS = 16;
  private static final String PATH = "/repos/acme/repo-a/issues";

  /**
   * How long after the readiness request "idle" is measured: past the sidecar's idle heap release
   * ({@code --heap-release-after}, 10 s by default), which a pod runs once after its start.
   */
  static final Duration IDLE_AFTER = Duration.ofSeconds(15);

  /**
   * How long after the load "after load" is measured: the quiet period (10 s) plus the least time
   * between two heap releases (30 s) plus malloc trimming (5 s), so the row is where a pod settles.
   */
  static final Duration AFTER_LOAD = Duration.ofSeconds(45);

  /**
   * @param imageAot start the sidecar as the image does: with the AOT cache its build trains
   *     ({@code aot-train}, the same flags) and its settings as {@code CAPGATE_*} variables; false
   *     (A/B, {@code -Dcapgate.bench.sidecarMemory.aot=false}): a plain JVM configured by flags
   * @param allRows also the 1,000 connections and the largest session; false ({@code
   *     -Dcapgate.bench.sidecarMemory.rows=load}): idle, under load and after load only (~2 min)
   */
  record Options(Path sidecarJar, List<String> sidecarJvmFlags, boolean imageAot, boolean allRows) {
    Options(Path sidecarJar, List<String> sidecarJvmFlags) {
      this(
          sidecarJar,
          sidecarJvmFlags,
          !"false".equals(System.getProperty("capgate.bench.sidecarMemory.aot")),
          !"load".equals(System.getProperty("capgate.bench.sidecarMemory.rows")));
    }
  }

  private final Options options;
  private final Section section;
  private final Map<String, Double> figures = new java.util.LinkedHashMap<>();
  private BenchPod pod;
  private ProxyUnderTest.PodFiles files;
  private Path vaultToken;
  private Path aotCache;

  SidecarMemoryBench(Options options, Section section) {
    this.options = options;
    this.section = section;
  }

  /** MiB by row key, for the targets table ({@code NaN} when not measured). */
  double figure(String key) {
    return figures.getOrDefault(key, Double.NaN);
  }

  void run() throws Exception {
    pod = BenchPod.create("bench-sidecar-memory", options.sidecarJar());
    JsonObject json = new JsonObject();
    try {
      writeFiles();
      startUpstream();
      if (options.imageAot()) {
        aotCache = trainAotCache(json);
      }
      String url = "https://" + BenchPod.UPSTREAM_HOST + PATH;

      Path small = session("small", smallSession());
      Bench.say(
          "sidecar memory: bench session, idle, then "
              + LOAD_REQUESTS
              + " requests per pass (h1, h2, h1) (h2load -n, c="
              + LOAD_CONNECTIONS
              + "), then settled");
      try (ProxyUnderTest proxy = start(small, url)) {
        sleep(IDLE_AFTER);
        figures.put("idle", settledRss(proxy.pid()));
        nmt(proxy.pid(), "idle");
        H2load h2load = new H2load(pod, url);
        double loadMax = Double.NaN;
        // HTTP/1.1, HTTP/2, then HTTP/1.1 again: the third pass's CPU per request is the warmed
        // JIT's (the first two include compiling), so flags that change the JIT can be compared.
        String[] passes = {"h1", "h2", "h1-again"};
        for (String p : passes) {
          boolean h1 = p.startsWith("h1");
          Loaded l = underLoad(h2load, proxy.pid(), h1);
          loadMax = Double.isNaN(loadMax) ? l.rssMax() : Math.max(loadMax, l.rssMax());
          figures.put("load-" + p + "-rps", l.result().rps());
          figures.put("load-" + p + "-cpuSeconds", l.cpuSeconds());
          if (!l.result().clean()) {
            json.put("load-" + p + "-problems", l.result().problems());
          }
        }
        figures.put("load", loadMax);
        long loadEnd = System.nanoTime();
        figures.put("afterLoadSoon", settledRss(proxy.pid()));
        nmt(proxy.pid(), "after-load-soon");
        sleep(AFTER_LOAD.minusNanos(System.nanoTime() - loadEnd));
        figures.put("afterLoad", settledRss(proxy.pid()));
        nmt(proxy.pid(), "after-load");
      }
      if (!options.allRows()) {
        return;
      }
      Bench.say("sidecar memory: bench session, " + IDLE_CONNECTIONS + " idle connections");
      try (ProxyUnderTest proxy = start(small, url)) {
        double idle = settledRss(proxy.pid());
        figures.put("idleBeforeConnections", idle);
        Process holder = holdConnections();
        try {
          double held = settledRss(proxy.pid());
          nmt(proxy.pid(), "connections");
          figures.put("connections", held);
          figures.put("perConnectionKiB", (held - idle) * 1024 / IDLE_CONNECTIONS);
        } finally {
          BenchPod.stop(holder);
        }
        long closed = System.nanoTime();
        figures.put("connectionsClosedSoon", settledRss(proxy.pid()));
        // The heap those connections grew is given back once the sidecar is quiet.
        sleep(AFTER_LOAD.minusNanos(System.nanoTime() - closed));
        figures.put("connectionsClosed", settledRss(proxy.pid()));
        nmt(proxy.pid(), "connections-closed");
      }

      String largestJson = largestSession();
      Path largest = session("largest", largestJson);
      Bench.say(
          "sidecar memory: the largest legal AgentSession ("
              + largestJson.length() / 1024
              + " KiB of JSON)");
      try (ProxyUnderTest proxy = start(largest, url)) {
        figures.put("largestSession", settledRss(proxy.pid()));
        nmt(proxy.pid(), "largest-session");
      }
      json.put("largestSessionJsonBytes", largestJson.length());
    } finally {
      pod.close();
      report(json);
    }
  }

  /** The table and results.json rows, also for the rows measured before a failure. */
  private void report(JsonObject json) {
    figures.forEach(json::put);
    json.put("idleConnections", IDLE_CONNECTIONS);
    json.put("jvmFlags", String.join(" ", options.sidecarJvmFlags()));
    json.put("imageAotCache", aotCache != null);
    section.json.put("sidecar", json);
    Table t =
        new Table(
            "Memory — sidecar (VmRSS, MiB; file mode, "
                + (aotCache != null
                    ? "as the image starts it: its AOT cache (aot-train), settings as CAPGATE_*"
                        + " variables, "
                    : "plain JVM (no AOT cache), settings as flags, ")
                + String.join(" ", options.sidecarJvmFlags())
                + ")",
            "what",
            "RSS",
            "note");
    t.row(
        "bench session (1 rule), idle "
            + IDLE_AFTER.toSeconds()
            + " s after one request"
            + (aotCache != null ? " (the shipped image's AOT cache and flags)" : " (plain JVM)"),
        f1(figure("idle")),
        null);
    t.row(
        "under load: max of 200 ms samples during "
            + LOAD_REQUESTS
            + " HTTP/1.1, "
            + LOAD_REQUESTS
            + " HTTP/2, "
            + LOAD_REQUESTS
            + " HTTP/1.1 requests (keep-alive, c="
            + LOAD_CONNECTIONS
            + ")",
        f1(figure("load")),
        Proc.fmt(figure("load-h1-rps"), 0)
            + " / "
            + Proc.fmt(figure("load-h2-rps"), 0)
            + " / "
            + Proc.fmt(figure("load-h1-again-rps"), 0)
            + " rps, sidecar CPU "
            + Proc.fmt(figure("load-h1-cpuSeconds"), 2)
            + " / "
            + Proc.fmt(figure("load-h2-cpuSeconds"), 2)
            + " / "
            + Proc.fmt(figure("load-h1-again-cpuSeconds"), 2)
            + " s (bounded passes: not throughput figures; the last pass's CPU is the warmed"
            + " JIT's)");
    t.row("after that load, settled (within 5 s)", f1(figure("afterLoadSoon")), null);
    t.row(
        "after that load, " + AFTER_LOAD.toSeconds() + " s quiet (the idle heap release has run)",
        f1(figure("afterLoad")),
        null);
    t.row(
        "a second start, idle after one request (before the connections)",
        f1(figure("idleBeforeConnections")),
        null);
    t.row(
        IDLE_CONNECTIONS + " idle agent connections (TLS, keep-alive, one request each)",
        f1(figure("connections")),
        f1(figure("perConnectionKiB"))
            + " KiB per connection (agent TLS + upstream TLS link + buffers)");
    t.row(
        "after those connections closed, settled (within 5 s)",
        f1(figure("connectionsClosedSoon")),
        null);
    t.row(
        "after those connections closed, " + AFTER_LOAD.toSeconds() + " s quiet",
        f1(figure("connectionsClosed")),
        null);
    t.row(
        "largest legal AgentSession (every maxItems/maxLength of the CRD)",
        f1(figure("largestSession")),
        json.getInteger("largestSessionJsonBytes", 0) / 1024
            + " KiB of JSON: 64 rules × 32 hosts × 64 paths × 7 methods, 32 credentials"
            + " (over etcd's 1.5 MiB object limit: an upper bound no cluster can store)");
    section.add(t);
  }

  record Loaded(H2load.Result result, double rssMax, double cpuSeconds) {}

  /**
   * {@value #LOAD_REQUESTS} keep-alive requests as the agent (bounded by count, not time: RSS
   * growth under load is the JIT's and the allocator's, which a few thousand requests trigger; the
   * data plane section measures throughput), sampling RSS every 200 ms.
   */
  private static Loaded underLoad(H2load h2load, long pid, boolean h1) {
    double cpu0 = Proc.cpuSeconds(pid);
    java.util.concurrent.atomic.DoubleAccumulator rssMax =
        new java.util.concurrent.atomic.DoubleAccumulator(Math::max, 0);
    java.util.concurrent.atomic.AtomicBoolean sampling =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread sampler =
        Thread.ofVirtual()
            .start(
                () -> {
                  while (sampling.get()) {
                    rssMax.accumulate(Proc.rssMiB(pid));
                    try {
                      Thread.sleep(200);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
    H2load.Result r;
    try {
      r =
          h2load.run(
              BenchPod.AGENT_UID,
              h1,
              List.of("-c", "" + LOAD_CONNECTIONS, "-n", "" + LOAD_REQUESTS),
              false,
              Duration.ofSeconds(120));
    } finally {
      sampling.set(false);
      try {
        sampler.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    rssMax.accumulate(Proc.rssMiB(pid));
    return new Loaded(r, rssMax.get(), Proc.cpuSeconds(pid) - cpu0);
  }

  /**
   * With {@code --sidecar-flag -XX:NativeMemoryTracking=summary}: where the memory is, by the JVM's
   * own accounting (heap, metaspace, code, threads, malloc), classes per loader and the threads,
   * written to {@code target/bench/sidecar-nmt-<label>.txt} (jcmd as the proxy's uid: attach needs
   * the same).
   */
  private void nmt(long pid, String label) {
    if (options.sidecarJvmFlags().stream()
        .noneMatch(f -> f.startsWith("-XX:NativeMemoryTracking"))) {
      return;
    }
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    StringBuilder out = new StringBuilder();
    for (String what :
        List.of(
            "VM.native_memory summary", "GC.heap_info", "VM.classloader_stats", "Thread.print")) {
      List<String> cmd = new ArrayList<>(List.of(jcmd, Long.toString(pid)));
      cmd.addAll(List.of(what.split(" ")));
      var r = pod.runInPod(BenchPod.PROXY_UID, Duration.ofSeconds(30), cmd);
      String text = r.stdout();
      out.append("## ").append(what).append('\n').append(text).append(r.stderr()).append("\n\n");
    }
    try {
      Path file = Path.of("target", "bench", "sidecar-nmt-" + label + ".txt").toAbsolutePath();
      Files.writeString(file, out);
    } catch (IOException e) {
      Bench.say("sidecar memory: could not write the NMT summary: " + e);
    }
  }

  private ProxyUnderTest start(Path sessionFile, String url) {
    List<String> flags = new ArrayList<>(options.sidecarJvmFlags());
    if (aotCache != null) {
      flags.add("-XX:AOTCache=" + aotCache);
    }
    return ProxyUnderTest.capgate(
        pod,
        options.sidecarJar(),
        flags,
        sessionFile,
        files,
        vaultToken,
        url,
        List.of(),
        aotCache != null);
  }

  /**
   * The cache sidecar/Dockerfile builds: {@code aot-train} with the same JVM flags, written as the
   * JVM exits. Null (and the rows run on a plain JVM, which the table says) if the training fails.
   */
  private Path trainAotCache(JsonObject json) {
    // A/B runs of JIT or sidecar settings on one jar may share a cache trained once (the JVM
    // refuses a cache made with other GC or header flags, and says so).
    String reuse = System.getProperty("capgate.bench.sidecarMemory.aotCache");
    if (reuse != null && Files.isRegularFile(Path.of(reuse))) {
      Bench.say("sidecar memory: reusing the AOT cache " + reuse);
      return Path.of(reuse);
    }
    Path cache = pod.scratch().resolve("sidecar-image.aot");
    List<String> cmd = new ArrayList<>(List.of(BenchPod.JAVA));
    cmd.addAll(options.sidecarJvmFlags());
    cmd.addAll(
        List.of(
            "-XX:AOTCacheOutput=" + cache, "-jar", options.sidecarJar().toString(), "aot-train"));
    Bench.say("sidecar memory: training the image's AOT cache (aot-train)");
    var r = pod.runInPod(BenchPod.PROXY_UID, Duration.ofSeconds(300), cmd);
    try {
      if (r.exitCode() == 0 && Files.size(cache) > 0) {
        json.put("aotCacheMiB", Files.size(cache) / (1024.0 * 1024));
        if (reuse != null) {
          Files.copy(cache, Path.of(reuse));
        }
        return cache;
      }
    } catch (IOException e) {
      // no cache written: below
    }
    Bench.say(
        "sidecar memory: aot-train exited "
            + r.exitCode()
            + ", no cache: plain JVM\n"
            + r.stdout()
            + r.stderr());
    json.put("aotTrainingExit", r.exitCode());
    return null;
  }

  private static void sleep(Duration d) {
    if (d.isNegative()) {
      return;
    }
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * {@value #IDLE_CONNECTIONS} TLS connections as the agent, each with one keep-alive GET answered,
   * then held open until the process is stopped.
   */
  private Process holdConnections() throws IOException {
    Path script = pod.scratch().resolve("hold.py");
    Files.writeString(
        script,
        """
        import resource, socket, ssl, sys, time
        n, ip, host, ca, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        ctx = ssl.create_default_context(cafile=ca)
        ctx.set_alpn_protocols(["http/1.1"])
        held = []
        for i in range(n):
            s = ctx.wrap_socket(socket.create_connection((ip, 443), timeout=30), server_hostname=host)
            s.sendall(f"GET {path} HTTP/1.1\\r\\nHost: {host}\\r\\n\\r\\n".encode())
            head = b""
            while b"\\r\\n\\r\\n" not in head:
                head += s.recv(65536)
            status = head.split(b" ", 2)[1]
            length = int([l.split(b":")[1] for l in head.split(b"\\r\\n") if l.lower().startswith(b"content-length:")][0])
            body = head.split(b"\\r\\n\\r\\n", 1)[1]
            while len(body) < length:
                body += s.recv(65536)
            if status != b"200":
                print("status", status, flush=True)
                sys.exit(1)
            held.append(s)
        print("held", len(held), flush=True)
        time.sleep(%d)
        """
            .formatted(OPEN_SECONDS));
    Path log = pod.scratch().resolve("hold.log");
    Process p =
        pod.start(
            pod.inPod(
                BenchPod.AGENT_UID,
                List.of(
                    "python3",
                    script.toString(),
                    Integer.toString(IDLE_CONNECTIONS),
                    UpstreamServers.V4,
                    BenchPod.UPSTREAM_HOST,
                    files.podCaCert().toString(),
                    PATH)),
            log,
            Map.of());
    BenchPod.awaitLine(p, log, "held " + IDLE_CONNECTIONS, Duration.ofSeconds(OPEN_SECONDS));
    return p;
  }

  private String smallSession() {
    return AgentSessionBuilder.session("bench-memory")
        .namespace("agents")
        .user("alice@example.com")
        .agent("bench-agent")
        .egress(rule("github-api").hosts(BenchPod.UPSTREAM_HOST).paths("/repos/acme/repo-a/**"))
        .json();
  }

  /**
   * Every list at its maxItems and every string at its maxLength: 64 rules of 32 distinct host
   * names (253 characters, labels of 63) and 64 distinct path patterns (512 characters) with all 7
   * methods, each naming 4 of 32 credentials (512-character Vault paths, header injection with
   * 256-character templates, placeholders). The bench's own host and path are in the first rule, so
   * the sidecar serves the readiness probe request.
   */
  static String largestSession() {
    List<AgentSessionBuilder.CredentialBuilder> credentials = new ArrayList<>();
    for (int c = 0; c < 32; c++) {
      String name = pad("cred-" + c + "-", 63, 'c');
      credentials.add(
          kv2(name, pad("secret/data/c" + c + "/{{user}}/", 512, 'p'), pad("f" + c, 128, 'f'))
              .header(pad("X-Token-" + c + "-", 128, 'h'), pad("Token {{value}} ", 256, 't'))
              .placeholder(pad("TOKEN_" + c + "_", 128, 'E')));
    }
    List<AgentSessionBuilder.RuleBuilder> rules = new ArrayList<>();
    for (int r = 0; r < 64; r++) {
      String[] hosts = new String[32];
      for (int h = 0; h < 32; h++) {
        hosts[h] = r == 0 && h == 0 ? BenchPod.UPSTREAM_HOST : longHost("r" + r + "h" + h + "-");
      }
      String[] paths = new String[64];
      for (int p = 0; p < 64; p++) {
        paths[p] =
            r == 0 && p == 0
                ? "/repos/acme/repo-a/**"
                : pad("/r" + r + "/p" + p + "/*/seg/", 509, 's') + "/**";
      }
      String[] names = new String[4];
      for (int k = 0; k < 4; k++) {
        names[k] = pad("cred-" + ((r * 4 + k) % 32) + "-", 63, 'c');
      }
      AgentSessionBuilder.RuleBuilder rule =
          rule(pad("rule-" + r + "-", 63, 'r'))
              .hosts(hosts)
              .methods(HttpMethod.values())
              .paths(paths);
      // The first rule serves the bench's readiness request, which has no Vault to read from.
      rules.add(r == 0 ? rule : rule.credentials(names));
    }
    return AgentSessionBuilder.session("bench-largest")
        .namespace("agents")
        .user(pad("alice-", 243, 'u') + "@example.c")
        .agent(pad("agent-", 63, 'a'))
        .project(pad("project-", 63, 'p'))
        .vaultRole(pad("role-", 128, 'v'))
        .credential(credentials.toArray(AgentSessionBuilder.CredentialBuilder[]::new))
        .egress(rules.toArray(AgentSessionBuilder.RuleBuilder[]::new))
        .json();
  }

  /** A 253-character DNS name of 63-character labels, unique by {@code prefix}. */
  private static String longHost(String prefix) {
    String first = pad(prefix, 63, 'a');
    return first + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(61);
  }

  private static String pad(String s, int length, char fill) {
    return s.length() >= length
        ? s.substring(0, length)
        : s + String.valueOf(fill).repeat(length - s.length());
  }

  private Path session(String name, String json) throws IOException {
    return Files.writeString(pod.scratch().resolve("session-" + name + ".json"), json);
  }

  private void writeFiles() throws IOException {
    files = DataPlaneFixture.writePki(pod, "unused");
    // No credential is read in these rows; the flag wants a file.
    vaultToken = Files.writeString(pod.scratch().resolve("vault-token"), "unused");
    DataPlaneFixture.owned(vaultToken, BenchPod.PROXY_UID, "400");
  }

  private void startUpstream() {
    Path log = pod.scratch().resolve("upstream.log");
    Process p =
        pod.start(
            pod.inUpstream(
                BenchUpstream.command(List.of("-Xmx256m"), pod.scratch().resolve("pki"), 1)),
            log,
            Map.of());
    BenchPod.awaitLine(p, log, "{\"ready\":true}", Duration.ofSeconds(60));
  }

  /** RSS once it stops moving (a second apart, within 1 MiB), at most 5 s. */
  private static double settledRss(long pid) {
    double last = Proc.rssMiB(pid);
    for (int i = 0; i < 5; i++) {
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return last;
      }
      double now = Proc.rssMiB(pid);
      if (Math.abs(now - last) < 1) {
        return now;
      }
      last = now;
    }
    return last;
  }

  private static String f1(double v) {
    return DataPlaneBench.f1(v);
  }
}
