package dev.capgate.bench;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.sidecar.netns.UpstreamServers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A pod for the benchmarks, on the sidecar's own test harness ({@link PodNetns}: a pod network
 * namespace and an upstream one joined by a veth, 198.18.0.1 ↔ 198.18.0.2, the pod resolving {@code
 * api.github.test} to the upstream) with the REAL init rules applied, plus what a bench needs on
 * top: processes started as a given uid in either namespace and stopped by us, and a scratch
 * directory every uid may write (h2load logs, the AOT cache, Squid's certificate db).
 */
final class BenchPod implements AutoCloseable {
  static final String UPSTREAM_HOST = "api.github.test";
  static final int AGENT_UID = PodNetns.AGENT_UID;
  static final int PROXY_UID = PodNetns.SIDECAR_UID;

  /**
   * The sidecar's environment: the upstream's name as the webhook passes a pod's hostAliases. The
   * sidecar never reads the pod's /etc/hosts (an agent could rewrite it), and the bench's upstream
   * namespace runs no DNS server.
   */
  static final Map<String, String> SIDECAR_ENV =
      Map.of(
          SidecarContract.ENV_HOST_ALIASES,
          "[{\"ip\":\"" + UpstreamServers.V4 + "\",\"hostnames\":[\"" + UPSTREAM_HOST + "\"]}]",
          // As sidecar/Dockerfile sets it.
          "MALLOC_ARENA_MAX",
          "2");

  static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  private final PodNetns netns;
  private final String upstreamNs;
  private final Path scratch;
  private final List<Process> processes = new ArrayList<>();

  private BenchPod(PodNetns netns) {
    this.netns = netns;
    // PodNetns names its pair cgt-pod-<suffix> / cgt-up-<suffix>.
    this.upstreamNs = netns.podNamespace().replace("cgt-pod-", "cgt-up-");
    this.scratch = netns.dir().resolve("scratch");
  }

  /** Namespaces, veth, hosts, then the sidecar's {@code init} (the pod's iptables rules). */
  static BenchPod create(String name, Path sidecarJar) {
    BenchPod pod = new BenchPod(PodNetns.create(name));
    try {
      if (!Command.run(List.of("ip", "netns", "list")).stdout().contains(pod.upstreamNs)) {
        throw new IllegalStateException(
            "no upstream namespace " + pod.upstreamNs + " next to " + pod.pod());
      }
      Files.createDirectories(pod.scratch);
      Files.setPosixFilePermissions(pod.scratch, PosixFilePermissions.fromString("rwxrwxrwx"));
      Command.run(List.of("chmod", "1777", pod.scratch.toString())).requireSuccess();
      Command.run(
              List.of(
                  "ip", "netns", "exec", pod.pod(), JAVA, "-jar", sidecarJar.toString(), "init"))
          .requireSuccess();
    } catch (IOException e) {
      pod.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      pod.close();
      throw e;
    }
    return pod;
  }

  String pod() {
    return netns.podNamespace();
  }

  String upstream() {
    return upstreamNs;
  }

  Path dir() {
    return netns.dir();
  }

  /** A directory anyone may write, with the sticky bit (like /tmp). */
  Path scratch() {
    return scratch;
  }

  /** The command as {@code uid} inside the pod namespace (null uid: root). */
  List<String> inPod(Integer uid, List<String> command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", pod()));
    if (uid != null) {
      full.addAll(
          List.of(
              "setpriv",
              "--reuid",
              uid.toString(),
              "--regid",
              uid.toString(),
              "--clear-groups",
              "--",
              "env",
              "HOME=/tmp",
              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
    }
    full.addAll(command);
    return full;
  }

  List<String> inUpstream(List<String> command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", upstreamNs));
    full.addAll(command);
    return full;
  }

  /** Runs to completion (bounded by {@code timeout}) as {@code uid} in the pod. */
  Command.Result runInPod(Integer uid, Duration timeout, List<String> command) {
    return Command.run(inPod(uid, command), timeout, Map.of(), null);
  }

  Command.Result runInUpstream(Duration timeout, List<String> command) {
    return Command.run(inUpstream(command), timeout, Map.of(), null);
  }

  /**
   * Starts a long-running process; output to {@code log}. {@code ip netns exec}, {@code setpriv}
   * and {@code env} all exec, so the returned process's pid is the program's own.
   */
  Process start(List<String> fullCommand, Path log, Map<String, String> env) {
    try {
      ProcessBuilder b =
          new ProcessBuilder(fullCommand)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      b.environment().putAll(env);
      Process p = b.start();
      synchronized (processes) {
        processes.add(p);
      }
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until {@code log} contains {@code line}. */
  static void awaitLine(Process p, Path log, String line, Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    try {
      while (Instant.now().isBefore(deadline)) {
        if (Files.exists(log) && Files.readString(log).contains(line)) {
          return;
        }
        if (!p.isAlive()) {
          throw new IllegalStateException("exited with " + p.exitValue() + ":\n" + tail(log));
        }
        Thread.sleep(50);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    throw new IllegalStateException("no '" + line + "' within " + timeout + ":\n" + tail(log));
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "(no log)";
    }
  }

  /**
   * SIGTERM, then waits up to {@code timeout} for {@code p} and every process it started to exit;
   * past that, {@link #stop}. For a JVM run with {@code -XX:AOTCacheOutput}: it writes the cache as
   * it exits, in a child JVM it waits for, which on a loaded machine takes longer than {@link
   * #stop}'s 10 s grace; killed then, the parent leaves the child writing while the caller looks
   * for the file ("cache NOT written"). Returns whether all of them exited by themselves.
   */
  static boolean stopAndAwaitExit(Process p, Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    // Children are listed while the parent lives: once it exits they are no longer its descendants.
    Set<ProcessHandle> started = new LinkedHashSet<>(p.descendants().toList());
    p.destroy();
    try {
      while (p.isAlive() && Instant.now().isBefore(deadline)) {
        p.descendants().forEach(started::add);
        p.waitFor(50, TimeUnit.MILLISECONDS);
      }
      for (ProcessHandle child : started) {
        Duration left = Duration.between(Instant.now(), deadline);
        if (!p.isAlive() && !left.isNegative()) {
          child.onExit().get(left.toMillis(), TimeUnit.MILLISECONDS);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      // not all exited in time: stopped below
    }
    boolean exited = !p.isAlive() && started.stream().noneMatch(ProcessHandle::isAlive);
    if (!exited) {
      stop(p);
      started.forEach(ProcessHandle::destroyForcibly);
    }
    return exited;
  }

  /** SIGTERM, then SIGKILL after a grace; the whole process tree. */
  static void stop(Process p) {
    if (p == null || !p.isAlive()) {
      return;
    }
    List<ProcessHandle> children = p.descendants().toList();
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    for (ProcessHandle c : children) {
      if (c.isAlive()) {
        c.destroyForcibly();
      }
    }
  }

  @Override
  public void close() {
    List<Process> all;
    synchronized (processes) {
      all = new ArrayList<>(processes);
    }
    for (Process p : all.reversed()) {
      stop(p);
    }
    netns.close();
  }
}
