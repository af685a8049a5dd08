package dev.capgate.sidecar.netns;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.sidecar.SidecarPorts;
import dev.capgate.testkit.Pki;
import dev.capgate.testkit.TestClassPath;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A pod, as far as the data plane can tell, without Kubernetes: a network namespace for the pod and
 * one for "the internet" (upstreams), joined by a veth pair (198.18.0.1 ↔ 198.18.0.2,
 * fd00:198:18::1 ↔ ::2; test addresses only), the REAL init rules in the pod namespace, the sidecar
 * jar running there as uid 1447, upstream servers in the other namespace, and agent commands run as
 * uid 1000. Everything is torn down by {@link #close()}; logs stay under {@code
 * target/netns-it/<name>/}.
 */
public final class PodNetns implements AutoCloseable {
  public static final String POD_V4 = "198.18.0.1";
  public static final String POD_V6 = "fd00:198:18::1";
  public static final int AGENT_UID = 1000;

  /** The contract's default sidecar uid (a pod made {@link #withSidecarPorts} uses its own). */
  public static final int SIDECAR_UID = SidecarPorts.DEFAULTS.proxyUid();

  /** Test names the pod resolves (through /etc/netns/<pod>/hosts) to the upstream namespace. */
  public static final List<String> TEST_HOSTS =
      List.of(
          "api.github.test",
          "evil.test",
          "pypi.test",
          "plain.test",
          "selfsigned.test",
          "mtls.test",
          "mtls-pass.test",
          "s3.test");

  private static final String JAVA =
      Path.of(System.getProperty("java.home"), "bin", "java").toString();

  private final String pod;
  private final String up;
  private final String vethPod;
  private final String vethUp;
  private final Path dir;
  private final Pki podCa = new Pki("capgate pod CA (test)");
  private final Pki upstreamCa = new Pki("upstream test CA");

  /**
   * Issues the certificate of a hard host (port 8444) that neither the sidecar nor the agent
   * trusts.
   */
  private final Pki untrustedCa = new Pki("a CA nobody in the pod trusts");

  /** Issues the agent's client certificate for the mutual-TLS host (port 8445). */
  private final Pki clientCa = new Pki("client certificates of the mTLS host");

  private String leakDetection = System.getProperty("capgate.it.leakDetection", "paranoid");

  /** {@code http} or {@code https}: as the Vault address given to {@link #startUpstreams}. */
  private String vaultScheme = "http";

  /** The uid and ports of this pod's init rules and sidecar: the defaults unless told otherwise. */
  private SidecarPorts ports = SidecarPorts.DEFAULTS;

  private final List<Process> processes = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final Map<Integer, InetSocketAddress> extraBridges = new java.util.LinkedHashMap<>();
  private final Path agentLog;

  private PodNetns(String name) {
    String suffix =
        HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 5);
    this.pod = "cgt-pod-" + suffix;
    this.up = "cgt-up-" + suffix;
    this.vethPod = "cgtp" + suffix;
    this.vethUp = "cgtu" + suffix;
    this.dir = Path.of(System.getProperty("user.dir"), "target", "netns-it", name).toAbsolutePath();
    this.agentLog = dir.resolve("agent-commands.log");
  }

  /** Namespaces, veth, addresses, hosts and resolv.conf; no rules, no processes yet. */
  public static PodNetns create(String name) {
    PodNetns n = new PodNetns(name);
    try {
      n.setUp();
    } catch (RuntimeException e) {
      n.close();
      throw e;
    }
    return n;
  }

  private void setUp() {
    try {
      deleteTree(dir);
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.writeString(agentLog, "");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    sh("ip", "netns", "add", pod);
    sh("ip", "netns", "add", up);
    sh("ip", "link", "add", vethPod, "type", "veth", "peer", "name", vethUp);
    sh("ip", "link", "set", vethPod, "netns", pod);
    sh("ip", "link", "set", vethUp, "netns", up);
    configure(pod, vethPod, POD_V4, POD_V6);
    configure(up, vethUp, UpstreamServers.V4, UpstreamServers.V6);
    // A default route in the pod: connects to any address reach the nat rules instead of failing
    // with "network unreachable" before them. The upstream namespace routes nothing further.
    inNs(pod, "ip", "route", "add", "default", "via", UpstreamServers.V4);
    inNs(pod, "ip", "-6", "route", "add", "default", "via", UpstreamServers.V6);
    try {
      Path etc = Path.of("/etc/netns", pod);
      Files.createDirectories(etc);
      StringBuilder hosts = new StringBuilder("127.0.0.1 localhost\n::1 localhost\n");
      TEST_HOSTS.forEach(h -> hosts.append(UpstreamServers.V4).append(' ').append(h).append('\n'));
      Files.writeString(etc.resolve("hosts"), hosts);
      Files.writeString(etc.resolve("resolv.conf"), "nameserver " + UpstreamServers.V4 + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void configure(String ns, String dev, String v4, String v6) {
    inNs(ns, "ip", "link", "set", "lo", "up");
    inNs(ns, "ip", "addr", "add", v4 + "/24", "dev", dev);
    inNs(ns, "ip", "-6", "addr", "add", v6 + "/64", "dev", dev, "nodad");
    inNs(ns, "ip", "link", "set", dev, "up");
  }

  public String podNamespace() {
    return pod;
  }

  public Path dir() {
    return dir;
  }

  public Pki podCa() {
    return podCa;
  }

  /** The pod CA certificate, readable by the agent (for curl --cacert). */
  public Path podCaCert() {
    return dir.resolve("pod-ca.crt");
  }

  public Path upstreamCaCert() {
    return dir.resolve("upstream-ca.crt");
  }

  /** The agent's client certificate and key for the mutual-TLS host (readable by the agent). */
  public Path agentClientCert() {
    return dir.resolve("agent-client.crt");
  }

  public Path agentClientKey() {
    return dir.resolve("agent-client.key");
  }

  /**
   * Netty's leak detection level in the sidecar (default paranoid: any lost ByteBuf is reported).
   * Paranoid tracks every buffer access, which a 1 GiB transfer cannot afford.
   */
  public PodNetns sidecarLeakDetection(String level) {
    this.leakDetection = level;
    return this;
  }

  /**
   * Writes a file into the sidecar's own directory, readable by the sidecar's uid only (as the CA
   * dir is).
   */
  public Path writeSidecarFile(String name, String content) {
    try {
      Path sidecarDir = dir.resolve("sidecar");
      Files.createDirectories(sidecarDir);
      Path file = sidecarDir.resolve(name);
      Files.writeString(file, content);
      owned(file, ports.proxyUid(), "r--------");
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs the real {@code init} in the pod namespace, with {@code flags} (e.g. --inbound-ports
   * 8080).
   */
  public Command.Result runInit(String... flags) {
    List<String> command =
        new ArrayList<>(
            List.of("ip", "netns", "exec", pod, JAVA, "-jar", sidecarJar().toString(), "init"));
    command.addAll(portFlags());
    command.addAll(List.of(flags));
    return Command.run(command);
  }

  /**
   * This pod's init rules and sidecar use {@code other} (as the webhook passes an operator's
   * non-default uid and ports to both): {@link #runInit} and {@link #startSidecar} add the flags.
   */
  public PodNetns withSidecarPorts(SidecarPorts other) {
    this.ports = other;
    return this;
  }

  public SidecarPorts sidecarPorts() {
    return ports;
  }

  /** {@code --proxy-uid 4242 --proxy-port ...}, or nothing for the defaults (what pods get). */
  private List<String> portFlags() {
    if (ports.equals(SidecarPorts.DEFAULTS)) {
      return List.of();
    }
    List<String> flags = new ArrayList<>();
    ports
        .toEnv()
        .forEach((env, value) -> flags.addAll(List.of("--" + SidecarContract.flagOf(env), value)));
    return flags;
  }

  /** {@code command} in the pod as {@code uid} (and gid), no groups, with PATH and HOME only. */
  public Command.Result asUid(int uid, String... command) {
    List<String> full =
        new ArrayList<>(
            List.of(
                "ip",
                "netns",
                "exec",
                pod,
                "setpriv",
                "--reuid",
                String.valueOf(uid),
                "--regid",
                String.valueOf(uid),
                "--clear-groups",
                "--",
                "env",
                "-i",
                "PATH=/usr/bin:/bin",
                "HOME=/tmp"));
    full.addAll(List.of(command));
    return Command.run(full, Duration.ofSeconds(30), Map.of(), null);
  }

  /**
   * Runs {@code command} in the upstream namespace: another pod of the cluster, as far as the pod
   * can tell (it reaches the pod at {@link #POD_V4} / {@link #POD_V6}).
   */
  public Command.Result inPeer(String... command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", up));
    full.addAll(List.of(command));
    return Command.run(full, Duration.ofSeconds(60), Map.of(), null);
  }

  /**
   * A server certificate for {@code host} from the CA the sidecar trusts for upstreams (an upstream
   * of a test's own, such as an S3 server, started with {@link #startInPeer}).
   */
  public Pki.Issued issueUpstreamServer(String host) {
    return upstreamCa.issueServer(host, List.of(host), List.of(UpstreamServers.V4));
  }

  /**
   * {@code command} in the pod as root, with only {@code env} plus PATH in its environment: for an
   * agent program installed where uid 1000 cannot read (the AWS venv in root's tools cache). Its
   * traffic is intercepted like the agent's: the rules exempt only the sidecar's uid.
   */
  public Command.Result asRootInPod(Map<String, String> env, Duration timeout, String... command) {
    List<String> full =
        new ArrayList<>(List.of("ip", "netns", "exec", pod, "env", "-i", "PATH=/usr/bin:/bin"));
    env.forEach((k, v) -> full.add(k + "=" + v));
    full.addAll(List.of(command));
    return Command.run(full, timeout, Map.of(), null);
  }

  /** Adds an address to the upstream side of the veth (a second "host" of the internet). */
  public void addUpstreamAddress(String v4) {
    inNs(up, "ip", "addr", "add", v4 + "/24", "dev", vethUp);
  }

  /** Starts a long-running {@code command} in the upstream namespace; output in {@code logName}. */
  public Process startInPeer(String logName, String readyLine, String... command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", up));
    full.addAll(List.of(command));
    return startAndWait(full, logName, readyLine);
  }

  /**
   * Starts a long-running {@code command} in the pod as the agent (uid 1000); output in {@code
   * logName}.
   */
  public Process startAsAgent(String logName, String readyLine, String... command) {
    return startAndWait(agentCommand(Map.of(), command), logName, readyLine);
  }

  /**
   * {@code command} in the pod as the agent (uid 1000, no groups), with only {@code env} plus PATH
   * and HOME in its environment.
   */
  private List<String> agentCommand(Map<String, String> env, String... command) {
    List<String> full =
        new ArrayList<>(
            List.of(
                "ip",
                "netns",
                "exec",
                pod,
                "setpriv",
                "--reuid",
                String.valueOf(AGENT_UID),
                "--regid",
                String.valueOf(AGENT_UID),
                "--clear-groups",
                "--",
                "env",
                "-i",
                "PATH=/usr/bin:/bin",
                "HOME=/tmp"));
    env.forEach((k, v) -> full.add(k + "=" + v));
    full.addAll(List.of(command));
    return full;
  }

  private Process startAndWait(List<String> command, String logName, String readyLine) {
    Process p = start(command, dir.resolve(logName));
    try {
      waitForLine(p, dir.resolve(logName), readyLine, Duration.ofSeconds(30));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }

  /**
   * Replaces the pod's hosts file (the one every container of a pod shares, as kubelet mounts it).
   */
  public void writePodHosts(String content) {
    try {
      Files.writeString(Path.of("/etc/netns", pod, "hosts"), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Command.Result inPod(String... command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", pod));
    full.addAll(List.of(command));
    return Command.run(full);
  }

  /** The sidecar's {@code /metrics} lines of one counter family ({@code name{labels} value}). */
  public List<String> metricSeries(String family) {
    return inPod("curl", "-s", "-m", "5", "http://127.0.0.1:" + ports.adminPort() + "/metrics")
        .stdout()
        .lines()
        .filter(l -> l.startsWith(family + "{"))
        .toList();
  }

  /**
   * Starts the upstream servers (and the Vault bridge when {@code vault} is given: the sidecar then
   * reaches it at {@code http://198.18.0.2:8200}, or {@code https://} when {@code vaultAddress} is
   * an https one: the bridge passes the bytes, TLS goes end to end).
   */
  public void startUpstreams(String vaultAddress) {
    try {
      Pki.Issued server =
          upstreamCa.issueServer(
              "upstream", TEST_HOSTS, List.of(UpstreamServers.V4, UpstreamServers.V6));
      Path upDir = dir.resolve("upstream");
      Files.createDirectories(upDir);
      server.writeTo(upDir, "server");
      untrustedCa
          .issueServer("selfsigned.test", List.of("selfsigned.test"), List.of())
          .writeTo(upDir, "untrusted-server");
      Files.writeString(upDir.resolve("client-ca.crt"), clientCa.caCertPem());
      Pki.Issued client = clientCa.issueClient("agent");
      Files.writeString(agentClientCert(), client.certPem());
      Files.writeString(agentClientKey(), client.keyPem());
      Files.setPosixFilePermissions(agentClientKey(), PosixFilePermissions.fromString("rw-r--r--"));
      Files.writeString(upstreamCaCert(), upstreamCa.caCertPem());
      List<String> command =
          new ArrayList<>(
              List.of(
                  "ip",
                  "netns",
                  "exec",
                  up,
                  JAVA,
                  "-cp",
                  TestClassPath.get(),
                  UpstreamServers.class.getName(),
                  upDir.toString()));
      if (vaultAddress != null) {
        Path socket = dir.resolve("vault.sock");
        java.net.URI uri = java.net.URI.create(vaultAddress);
        vaultScheme = uri.getScheme();
        closeables.add(
            UnixSocketBridge.start(
                UnixDomainSocketAddress.of(socket),
                new InetSocketAddress(uri.getHost(), uri.getPort())));
        command.add(UpstreamServers.V4 + ":8200");
        command.add(socket.toString());
      }
      if (vaultAddress == null && !extraBridges.isEmpty()) {
        // The helper reads bridges in pairs after the directory: a Vault pair must come first.
        Path unused = dir.resolve("no-vault.sock");
        command.add("127.0.0.1:1");
        command.add(unused.toString());
      }
      for (Map.Entry<Integer, InetSocketAddress> bridge : extraBridges.entrySet()) {
        Path socket = dir.resolve("bridge-" + bridge.getKey() + ".sock");
        closeables.add(
            UnixSocketBridge.start(UnixDomainSocketAddress.of(socket), bridge.getValue()));
        command.add(UpstreamServers.V4 + ":" + bridge.getKey());
        command.add(socket.toString());
      }
      Process p = start(command, dir.resolve("upstream.log"));
      waitForLine(p, dir.resolve("upstream.log"), "{\"ready\":true}", Duration.ofSeconds(30));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Before {@link #startUpstreams}: the upstream address {@code 198.18.0.2:<port>} carries TCP to
   * {@code target} on the test host's loopback (a server the test runs itself: Keycloak, an API).
   */
  public PodNetns bridgeToHost(int port, InetSocketAddress target) {
    extraBridges.put(port, target);
    return this;
  }

  /**
   * A serving certificate from the CA the sidecar trusts for upstreams ({@code
   * --upstream-ca-file}).
   */
  public Pki.Issued issueUpstreamCertificate(String... dnsNames) {
    return upstreamCa.issueServer(dnsNames[0], List.of(dnsNames), List.of(UpstreamServers.V4));
  }

  /**
   * Starts the sidecar jar in the pod namespace as the sidecar's uid (1447 unless {@link
   * #withSidecarPorts}) and waits for /readyz on its admin port.
   *
   * @param sessionJson the AgentSession (or spec) the sidecar enforces
   * @param extraFlags more {@code --flag value} pairs
   */
  public Process startSidecar(String sessionJson, String vaultToken, List<String> extraFlags) {
    return startSidecar(sessionJson, vaultToken, extraFlags, "/readyz", "ready");
  }

  /** As above, waiting until {@code probe} on the admin port answers with {@code expected}. */
  public Process startSidecar(
      String sessionJson,
      String vaultToken,
      List<String> extraFlags,
      String probe,
      String expected) {
    try {
      Path sidecarDir = dir.resolve("sidecar");
      Files.createDirectories(sidecarDir);
      Files.writeString(sidecarDir.resolve("session.json"), sessionJson);
      Files.writeString(sidecarDir.resolve("ca.crt"), podCa.caCertPem());
      Files.writeString(podCaCert(), podCa.caCertPem());
      Path key = sidecarDir.resolve("ca.key");
      Files.writeString(key, podCa.caKeyPem());
      owned(key, ports.proxyUid(), "r--------");
      List<String> command =
          new ArrayList<>(
              List.of(
                  "ip",
                  "netns",
                  "exec",
                  pod,
                  "setpriv",
                  "--reuid",
                  String.valueOf(ports.proxyUid()),
                  "--regid",
                  String.valueOf(ports.proxyUid()),
                  "--clear-groups",
                  "--",
                  // A small heap proves bodies stream; paranoid leak detection reports any ByteBuf
                  // we lose.
                  JAVA,
                  "-XX:+UseSerialGC",
                  "-Xmx96m",
                  "-XX:-UsePerfData",
                  "-Dio.netty.leakDetection.level=" + leakDetection,
                  "-jar",
                  sidecarJar().toString(),
                  "proxy",
                  "--session-file",
                  sidecarDir.resolve("session.json").toString(),
                  "--ca-cert",
                  sidecarDir.resolve("ca.crt").toString(),
                  "--ca-key",
                  key.toString(),
                  "--upstream-ca-file",
                  upstreamCaCert().toString()));
      if (vaultToken != null) {
        Path token = sidecarDir.resolve("vault-token");
        Files.writeString(token, vaultToken);
        owned(token, ports.proxyUid(), "r--------");
        command.addAll(
            List.of(
                "--vault-addr",
                vaultScheme + "://" + UpstreamServers.V4 + ":8200",
                "--vault-static-token-file",
                token.toString()));
      }
      command.addAll(portFlags());
      command.addAll(extraFlags);
      Process p = start(command, dir.resolve("sidecar.log"), Map.of("HOME", "/tmp"));
      Instant deadline = Instant.now().plus(Duration.ofSeconds(40));
      while (Instant.now().isBefore(deadline)) {
        if (!p.isAlive()) {
          throw new IllegalStateException(
              "sidecar exited with " + p.exitValue() + ":\n" + log("sidecar.log"));
        }
        Command.Result ready =
            inPod("curl", "-s", "-m", "2", "http://127.0.0.1:" + ports.adminPort() + probe);
        if (ready.exitCode() == 0 && ready.stdout().startsWith(expected)) {
          return p;
        }
        Thread.sleep(150);
      }
      throw new IllegalStateException("sidecar not ready within 40 s:\n" + log("sidecar.log"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Runs {@code command} in the pod as the agent (uid 1000), with an empty environment. */
  public Command.Result asAgent(String... command) {
    return asAgent(Map.of(), Duration.ofSeconds(30), command);
  }

  /**
   * Runs {@code command} in the pod as the agent (uid 1000), with only {@code env} (plus PATH and
   * HOME) in its environment (what the webhook would set, e.g. a placeholder), within {@code
   * timeout}.
   */
  public Command.Result asAgent(Map<String, String> env, Duration timeout, String... command) {
    Command.Result r = Command.run(agentCommand(env, command), timeout, Map.of(), null);
    try {
      Files.writeString(
          agentLog,
          "$ "
              + String.join(" ", command)
              + "\n[exit "
              + r.exitCode()
              + "]\n"
              + r.stdout()
              + "\n"
              + r.stderr()
              + "\n",
          java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return r;
  }

  /** A log file of this run (sidecar.log, upstream.log, agent-commands.log). */
  public String log(String name) {
    try {
      Path file = dir.resolve(name);
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every file this run wrote (logs, outputs), for the secret scan. */
  public List<Path> logFiles() {
    try (var files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).filter(f -> f.toString().endsWith(".log")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    for (Process p : processes.reversed()) {
      p.destroy();
      try {
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception ignored) {
        // best effort
      }
    }
    Command.run(List.of("ip", "netns", "del", pod));
    Command.run(List.of("ip", "netns", "del", up));
    deleteTree(Path.of("/etc/netns", pod));
  }

  // ---------------------------------------------------------------- helpers

  static Path sidecarJar() {
    Path jar = Path.of(System.getProperty("user.dir"), "target", "capgate-sidecar.jar");
    if (!Files.exists(jar)) {
      throw new IllegalStateException(
          jar + " is missing: run the package phase first (mvn verify does)");
    }
    return jar;
  }

  private Process start(List<String> command, Path log) {
    return start(command, log, Map.of());
  }

  private Process start(List<String> command, Path log, Map<String, String> env) {
    try {
      ProcessBuilder builder =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      builder.environment().putAll(env);
      Process p = builder.start();
      processes.add(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void waitForLine(Process p, Path log, String line, Duration timeout)
      throws IOException {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (Files.exists(log) && Files.readString(log).contains(line)) {
        return;
      }
      if (!p.isAlive()) {
        throw new IllegalStateException(
            "process exited with " + p.exitValue() + ":\n" + Files.readString(log));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    throw new IllegalStateException(
        "no '" + line + "' within " + timeout + " in " + log + ":\n" + Files.readString(log));
  }

  private static void owned(Path file, int uid, String perms) {
    Command.run(List.of("chown", uid + ":" + uid, file.toString())).requireSuccess();
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void inNs(String ns, String... command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    full.addAll(List.of(command));
    Command.run(full).requireSuccess();
  }

  private static void sh(String... command) {
    Command.run(List.of(command)).requireSuccess();
  }

  private static void deleteTree(Path path) {
    if (!Files.exists(path)) {
      return;
    }
    try (var walk = Files.walk(path)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
