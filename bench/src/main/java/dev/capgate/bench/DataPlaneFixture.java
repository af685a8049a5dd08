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
import java.util.List;
import java.util.Map;

/**
 * What every data-plane measurement stands on ({@link DataPlaneBench}, {@link DataPlaneAbBench}): a
 * bench pod with the real init rules, an OpenBao KV mount holding the credential, the Vault bridge,
 * the PKI files, the session files (without and with limits), the HTTPS upstream, h2load, and the
 * load shapes both sections run (keep-alive at concurrency 16, keep-alive at a fixed 1,000 rps, the
 * warm-up until the rate is stable).
 */
final class DataPlaneFixture implements AutoCloseable {
  final BenchPod pod;
  final String url = "https://" + BenchPod.UPSTREAM_HOST + DataPlaneBench.PATH;
  H2load h2load;
  ProxyUnderTest.PodFiles files;
  Path sessionFile;

  /** The same session with rule and session limits that never trigger at bench rates. */
  Path limitedSessionFile;

  Path vaultToken;
  private final Map<String, String> setups;
  private UnixSocketBridge vaultBridge;

  private DataPlaneFixture(BenchPod pod, Map<String, String> setups) {
    this.pod = pod;
    this.setups = setups;
  }

  /**
   * @param setups where to note what the upstream is (the section's setup table)
   */
  static DataPlaneFixture open(String name, Path sidecarJar, Map<String, String> setups)
      throws Exception {
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

    DataPlaneFixture f = new DataPlaneFixture(BenchPod.create(name, sidecarJar), setups);
    try {
      URI uri = URI.create(bao.address());
      f.vaultBridge =
          UnixSocketBridge.start(
              UnixDomainSocketAddress.of(f.pod.scratch().resolve("vault.sock")),
              new InetSocketAddress(uri.getHost(), uri.getPort()));
      f.writeFiles(mount, secret, token);
      f.startUpstream();
      f.h2load = new H2load(f.pod, f.url);
      return f;
    } catch (Exception | Error e) {
      f.close();
      throw e;
    }
  }

  @Override
  public void close() {
    try {
      if (vaultBridge != null) {
        vaultBridge.close();
      }
    } catch (Exception e) {
      Bench.say("closing the Vault bridge: " + e);
    } finally {
      pod.close();
    }
  }

  /** The sidecar jar on {@code session} with {@code jvmFlags}, and {@code args} (e.g. ports). */
  ProxyUnderTest capgate(Path sidecarJar, List<String> jvmFlags, Path session, List<String> args) {
    return ProxyUnderTest.capgate(pod, sidecarJar, jvmFlags, session, files, vaultToken, url, args);
  }

  // ------------------------------------------------------------------ files and upstream

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
    Limits neverTrigger = LimiterBench.NEVER_TRIGGER;
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

  // ------------------------------------------------------------------ load shapes

  /** Keep-alive throughput: h2load -c 16 for {@code d}. */
  H2load.Result keepAlive(int uid, boolean h1, Duration d) {
    return h2load.run(
        uid,
        h1,
        List.of("-c", "" + DataPlaneBench.CONCURRENCY, "-D", d.toSeconds() + "s"),
        false,
        timeout(d));
  }

  /** Latency at a fixed 1,000 rps: 10 keep-alive connections × 100 rps, per-request log. */
  H2load.Result paced(int uid, boolean h1, Duration d) {
    return h2load.run(
        uid,
        h1,
        List.of(
            "-c",
            "" + DataPlaneBench.RATE_CLIENTS,
            "--rps",
            "" + DataPlaneBench.RATE_PER_CLIENT,
            "-D",
            d.toSeconds() + "s"),
        true,
        timeout(d));
  }

  /**
   * The same for every row: keep-alive rounds of a fixed request count (count-bound runs never
   * hang; h2load's -D sometimes does when it stops clients that are still handshaking) until the
   * last three rounds agree within 10 % on the rate, at least {@code warmUp} and at most 6 × that;
   * HTTP/1.1 then three rounds of new connections.
   */
  void warmUp(String target, int uid, boolean h1, Duration warmUp) {
    int concurrency = DataPlaneBench.CONCURRENCY;
    long started = System.nanoTime();
    long min = warmUp.toNanos();
    long max = warmUp.multipliedBy(6).toNanos();
    long n = 1_600;
    List<Double> seen = new ArrayList<>();
    List<String> rates = new ArrayList<>();
    while (true) {
      H2load.Result r =
          h2load.run(
              uid,
              h1,
              List.of("-c", "" + concurrency, "-n", "" + n),
              false,
              Duration.ofSeconds(120));
      rates.add(DataPlaneBench.f0(r.rps()));
      seen.add(r.rps());
      long elapsed = System.nanoTime() - started;
      if ((elapsed >= min && stable(seen)) || elapsed >= max) {
        break;
      }
      // About 2 s per round at the current rate.
      n =
          Math.max(
              concurrency * 20L,
              Math.min(200_000L, Math.round(r.rps() * 2 / concurrency) * concurrency));
    }
    if (h1) {
      // The new-connection path too (TLS handshakes on both sides of the proxy).
      for (int i = 0; i < 3; i++) {
        H2load.Result r =
            newConnections(uid, concurrency, concurrency * 50L, Duration.ofSeconds(120));
        rates.add("close " + DataPlaneBench.f0(r.rps()));
      }
    }
    Bench.say(
        "  "
            + target
            + (h1 ? " HTTP/1.1" : " HTTP/2")
            + " warm-up rounds (rps): "
            + String.join(", ", rates));
  }

  /**
   * HTTP/1.1 with a new connection per request ({@code Connection: close}, TLS handshakes on both
   * sides of a proxy): count-bound, since h2load's -D hangs when it reconnects.
   */
  H2load.Result newConnections(int uid, int concurrency, long requests, Duration timeout) {
    return h2load.run(
        uid,
        true,
        List.of("-c", "" + concurrency, "-n", "" + requests, "-H", "Connection: close"),
        false,
        timeout);
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

  static Duration timeout(Duration d) {
    return d.plusSeconds(40);
  }

  /** CPU seconds of the process tree (0 for no process). */
  static double cpu(long pid) {
    return pid < 0 ? 0 : Proc.cpuSeconds(pid);
  }

  /** RSS once it stops moving (a second apart, within 1 MiB), at most 5 s. */
  static double settledRss(long pid) {
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
  long[] upstreamStats() {
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

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
