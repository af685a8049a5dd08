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
 * opened at most {@value #OPEN_SECONDS} s, each RSS settled within 5 s.
 */
final class SidecarMemoryBench {
  static final int IDLE_CONNECTIONS = 1_000;
  static final int OPEN_SECONDS = 300;
  private static final String PATH = "/repos/acme/repo-a/issues";

  record Options(Path sidecarJar, List<String> sidecarJvmFlags) {}

  private final Options options;
  private final Section section;
  private final Map<String, Double> figures = new java.util.LinkedHashMap<>();
  private BenchPod pod;
  private ProxyUnderTest.PodFiles files;
  private Path vaultToken;

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
      String url = "https://" + BenchPod.UPSTREAM_HOST + PATH;

      Path small = session("small", smallSession());
      Bench.say("sidecar memory: bench session, then " + IDLE_CONNECTIONS + " idle connections");
      try (ProxyUnderTest proxy = start(small, url)) {
        double idle = settledRss(proxy.pid());
        figures.put("idle", idle);
        Process holder = holdConnections();
        try {
          double held = settledRss(proxy.pid());
          figures.put("connections", held);
          figures.put("perConnectionKiB", (held - idle) * 1024 / IDLE_CONNECTIONS);
        } finally {
          BenchPod.stop(holder);
        }
        figures.put("connectionsClosed", settledRss(proxy.pid()));
      }

      String largestJson = largestSession();
      Path largest = session("largest", largestJson);
      Bench.say(
          "sidecar memory: the largest legal AgentSession ("
              + largestJson.length() / 1024
              + " KiB of JSON)");
      try (ProxyUnderTest proxy = start(largest, url)) {
        figures.put("largestSession", settledRss(proxy.pid()));
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
    section.json.put("sidecar", json);
    Table t =
        new Table(
            "Memory — sidecar (VmRSS, MiB; file mode, "
                + String.join(" ", options.sidecarJvmFlags())
                + ")",
            "what",
            "RSS",
            "note");
    t.row("bench session (1 rule), idle after one request", f1(figure("idle")), null);
    t.row(
        IDLE_CONNECTIONS + " idle agent connections (TLS, keep-alive, one request each)",
        f1(figure("connections")),
        f1(figure("perConnectionKiB"))
            + " KiB per connection (agent TLS + upstream TLS link + buffers)");
    t.row("after those connections closed", f1(figure("connectionsClosed")), null);
    t.row(
        "largest legal AgentSession (every maxItems/maxLength of the CRD)",
        f1(figure("largestSession")),
        json.getInteger("largestSessionJsonBytes", 0) / 1024
            + " KiB of JSON: 64 rules × 32 hosts × 64 paths × 7 methods, 32 credentials"
            + " (over etcd's 1.5 MiB object limit: an upper bound no cluster can store)");
    section.add(t);
  }

  private ProxyUnderTest start(Path sessionFile, String url) {
    return ProxyUnderTest.capgate(
        pod, options.sidecarJar(), options.sidecarJvmFlags(), sessionFile, files, vaultToken, url);
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
    files = DataPlaneBench.writePki(pod, "unused");
    // No credential is read in these rows; the flag wants a file.
    vaultToken = Files.writeString(pod.scratch().resolve("vault-token"), "unused");
    DataPlaneBench.owned(vaultToken, BenchPod.PROXY_UID, "400");
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
