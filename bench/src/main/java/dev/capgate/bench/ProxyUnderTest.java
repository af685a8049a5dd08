package dev.capgate.bench;

import dev.capgate.sidecar.netns.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A transparent TLS-intercepting proxy in the pod, listening on 14001 as uid 1447, where the real
 * Capgate init rules send the agent's TCP: Capgate's sidecar, Squid (ssl-bump, intercept) or
 * mitmproxy (transparent). Each terminates the agent's TLS with the same pod CA, verifies the
 * upstream against the upstream CA, and adds the same {@code Authorization} header.
 */
final class ProxyUnderTest implements AutoCloseable {
  /** What every proxy adds: the value Capgate reads from OpenBao, the peers from their config. */
  static final String HEADER = "authorization";

  private final String name;
  private final boolean h2;
  private final String setup;
  private final Process process;
  private final Path log;

  private ProxyUnderTest(String name, boolean h2, String setup, Process process, Path log) {
    this.name = name;
    this.h2 = h2;
    this.setup = setup;
    this.process = process;
    this.log = log;
  }

  String name() {
    return name;
  }

  /** Whether the proxy speaks HTTP/2 to the agent (ALPN h2). */
  boolean offersH2() {
    return h2;
  }

  String setup() {
    return setup;
  }

  long pid() {
    return process.pid();
  }

  Path log() {
    return log;
  }

  /** The files all proxies share. */
  record PodFiles(Path podCaCert, Path podCaKey, Path upstreamCaCert, String credential) {}

  // ------------------------------------------------------------------ Capgate

  /**
   * The sidecar jar in file mode ({@code --session-file}) with the image's JVM flags, the pod's
   * memory limit given to the JVM as {@code -XX:MaxRAM} (no cgroup here), credentials read from the
   * real OpenBao (KV v2, cached by the sidecar) through the Vault bridge at 198.18.0.2:8200 by the
   * same {@code CredentialBroker} production runs (file mode feeds it a static token from {@code
   * --vault-static-token-file} instead of the operator's login; engines, cache and errors are
   * production's). {@code args}: more sidecar flags (a second sidecar in the same pod takes other
   * ports, and logs to a file of its own); none for the usual one.
   */
  static ProxyUnderTest capgate(
      BenchPod pod,
      Path sidecarJar,
      List<String> jvmFlags,
      Path sessionFile,
      PodFiles f,
      Path vaultTokenFile,
      String url,
      List<String> args) {
    return capgate(pod, sidecarJar, jvmFlags, sessionFile, f, vaultTokenFile, url, args, false);
  }

  /**
   * @param asPod the settings as {@code CAPGATE_*} variables, as the webhook gives them to a pod,
   *     instead of flags: a start without flags loads no command-line parser (picocli, ~145 classes
   *     outside the image's AOT cache)
   */
  static ProxyUnderTest capgate(
      BenchPod pod,
      Path sidecarJar,
      List<String> jvmFlags,
      Path sessionFile,
      PodFiles f,
      Path vaultTokenFile,
      String url,
      List<String> args,
      boolean asPod) {
    Path log =
        pod.scratch()
            .resolve(
                args.isEmpty()
                    ? "capgate-sidecar.log"
                    : "capgate-sidecar-" + args.hashCode() + ".log");
    Map<String, String> settings = new java.util.LinkedHashMap<>();
    settings.put("session-file", sessionFile.toString());
    settings.put("ca-cert", f.podCaCert().toString());
    settings.put("ca-key", f.podCaKey().toString());
    settings.put("upstream-ca-file", f.upstreamCaCert().toString());
    settings.put("vault-addr", "http://" + dev.capgate.sidecar.netns.UpstreamServers.V4 + ":8200");
    settings.put("vault-static-token-file", vaultTokenFile.toString());
    List<String> cmd = new ArrayList<>(List.of(BenchPod.JAVA));
    cmd.addAll(jvmFlags);
    cmd.addAll(List.of("-jar", sidecarJar.toString(), "proxy"));
    Map<String, String> env = new java.util.HashMap<>(BenchPod.SIDECAR_ENV);
    settings.forEach(
        (name, value) -> {
          if (asPod) {
            env.put(dev.capgate.common.cli.Flag.envOf(name), value);
          } else {
            cmd.addAll(List.of("--" + name, value));
          }
        });
    cmd.addAll(args);
    Process p = pod.start(pod.inPod(BenchPod.PROXY_UID, cmd), log, env);
    ProxyUnderTest proxy =
        new ProxyUnderTest(
            "Capgate",
            true,
            "sidecar jar, file mode, "
                + String.join(" ", jvmFlags)
                + (asPod ? ", settings as CAPGATE_* variables" : "")
                + "; credential: the production CredentialBroker on a static Vault token,"
                + " OpenBao KV v2 (cached 30 s)",
            p,
            log);
    proxy.awaitServing(pod, f, url);
    return proxy;
  }

  // ------------------------------------------------------------------ Squid

  /**
   * Squid (Debian squid-openssl) as an intercepting ssl-bump proxy on 14001: peek at step 1, bump
   * all, leaf certificates minted by security_file_certgen with the pod CA and cached in memory,
   * upstream verified against the upstream CA, the header added with request_header_add, no cache,
   * no access log. Squid speaks HTTP/1.1 to the agent only.
   */
  static ProxyUnderTest squid(BenchPod pod, PodFiles f, String url) {
    try {
      Path dir = pod.scratch().resolve("squid");
      Files.createDirectories(dir);
      Path caPem = dir.resolve("ca.pem");
      Files.writeString(caPem, Files.readString(f.podCaKey()) + Files.readString(f.podCaCert()));
      Path conf = dir.resolve("squid.conf");
      Files.writeString(
          conf,
          """
          http_port 127.0.0.1:3128
          https_port 14001 intercept ssl-bump tls-cert=%1$s/ca.pem generate-host-certificates=on dynamic_cert_mem_cache_size=16MB
          sslcrtd_program /usr/lib/squid/security_file_certgen -s %1$s/ssl_db -M 16MB
          sslcrtd_children 4 startup=1 idle=1
          acl step1 at_step SslBump1
          ssl_bump peek step1
          ssl_bump bump all
          tls_outgoing_options cafile=%2$s
          request_header_add Authorization "Bearer %3$s" all
          http_access allow all
          cache deny all
          cache_mem 8 MB
          access_log none
          cache_log %1$s/cache.log
          pid_filename %1$s/squid.pid
          coredump_dir %1$s
          visible_hostname capgate-bench
          pinger_enable off
          shutdown_lifetime 1 seconds
          """
              .formatted(dir, f.upstreamCaCert(), f.credential()));
      Command.run(
              List.of("chown", "-R", BenchPod.PROXY_UID + ":" + BenchPod.PROXY_UID, dir.toString()))
          .requireSuccess();
      Command.run(List.of("chmod", "600", caPem.toString())).requireSuccess();
      pod.runInPod(
              BenchPod.PROXY_UID,
              Duration.ofSeconds(30),
              List.of(
                  "/usr/lib/squid/security_file_certgen",
                  "-c",
                  "-s",
                  dir.resolve("ssl_db").toString(),
                  "-M",
                  "16MB"))
          .requireSuccess();
      Path log = dir.resolve("squid.out");
      Process p =
          pod.start(
              pod.inPod(BenchPod.PROXY_UID, List.of("squid", "-N", "-f", conf.toString())),
              log,
              Map.of());
      ProxyUnderTest proxy =
          new ProxyUnderTest(
              "Squid",
              false,
              Command.run(List.of("squid", "-v")).stdout().lines().findFirst().orElse("squid")
                  + ", https_port intercept ssl-bump, certgen + 16 MB leaf cache, no cache, no access log",
              p,
              log);
      proxy.awaitServing(pod, f, url);
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ------------------------------------------------------------------ mitmproxy

  /**
   * mitmdump (PyPI mitmproxy in a venv) in transparent mode on 14001, quiet, with the pod CA as its
   * CA, the upstream CA trusted, and an addon that sets the header on every request.
   */
  static ProxyUnderTest mitmproxy(BenchPod pod, Path venv, PodFiles f, String url) {
    try {
      Path dir = pod.scratch().resolve("mitmproxy");
      Files.createDirectories(dir);
      Files.writeString(
          dir.resolve("mitmproxy-ca.pem"),
          Files.readString(f.podCaKey()) + Files.readString(f.podCaCert()));
      Files.writeString(dir.resolve("mitmproxy-ca-cert.pem"), Files.readString(f.podCaCert()));
      Path addon = dir.resolve("add_header.py");
      Files.writeString(
          addon,
          """
          from mitmproxy import http

          class AddHeader:
              def request(self, flow: http.HTTPFlow) -> None:
                  flow.request.headers["authorization"] = "Bearer %s"

          addons = [AddHeader()]
          """
              .formatted(f.credential()));
      Command.run(
              List.of("chown", "-R", BenchPod.PROXY_UID + ":" + BenchPod.PROXY_UID, dir.toString()))
          .requireSuccess();
      Path log = dir.resolve("mitmdump.out");
      String mitmdump = venv.resolve("bin/mitmdump").toString();
      Process p =
          pod.start(
              pod.inPod(
                  BenchPod.PROXY_UID,
                  List.of(
                      mitmdump,
                      "--mode",
                      "transparent",
                      "--listen-port",
                      "14001",
                      "--set",
                      "confdir=" + dir,
                      "--set",
                      "ssl_verify_upstream_trusted_ca=" + f.upstreamCaCert(),
                      "-s",
                      addon.toString(),
                      "-q")),
              log,
              Map.of());
      String version =
          Command.run(List.of(mitmdump, "--version"))
              .stdout()
              .lines()
              .findFirst()
              .orElse("mitmproxy");
      ProxyUnderTest proxy =
          new ProxyUnderTest(
              "mitmproxy",
              true,
              version.replace("Mitmproxy: ", "mitmproxy ")
                  + ", mitmdump --mode transparent -q, addon sets the header",
              p,
              log);
      proxy.awaitServing(pod, f, url);
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static final int SERVING_SECONDS = 180;

  /**
   * Until one request from the agent comes back 200 through this proxy. Generous bounds: on a
   * shared 2-core machine at load average 30 a JVM start and its first intercepted request (leaf
   * mint, upstream TLS, JIT) took over a minute, and a 5 s curl gave up on it every time.
   */
  private void awaitServing(BenchPod pod, PodFiles f, String url) {
    Instant deadline = Instant.now().plusSeconds(SERVING_SECONDS);
    String last = "";
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            name + " exited with " + process.exitValue() + ":\n" + BenchPod.tail(log));
      }
      Command.Result r =
          pod.runInPod(
              BenchPod.AGENT_UID,
              Duration.ofSeconds(35),
              List.of(
                  "curl",
                  "-s",
                  "-o",
                  "/dev/null",
                  "-w",
                  "%{http_code}",
                  "-m",
                  "30",
                  "--cacert",
                  f.podCaCert().toString(),
                  url));
      last = r.stdout() + r.stderr();
      if (r.stdout().strip().equals("200")) {
        return;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    throw new IllegalStateException(
        name
            + " did not serve within "
            + SERVING_SECONDS
            + " s (last: "
            + last
            + "):\n"
            + BenchPod.tail(log));
  }

  @Override
  public void close() {
    BenchPod.stop(process);
  }
}
