package dev.capgate.bench;

import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.OpenBaoServer;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The operator jar in a process of its own (its RSS is what the memory section reports), with the
 * image's JVM flags and the chart's memory limit as the JVM's RAM, against the bench's real API
 * server and OpenBao, its webhook registered at https://127.0.0.1:&lt;port&gt;/mutate.
 */
final class OperatorProcess implements AutoCloseable {
  static final String NAMESPACE = "capgate-system";
  static final String WEBHOOK_CONFIGURATION = "capgate-injector-bench";

  /** operator/Dockerfile's JVM_FLAGS (the operator's, not the sidecar's). */
  static final List<String> JVM_FLAGS =
      List.of(
          "-XX:+UseSerialGC",
          "-XX:MinRAMPercentage=30",
          "-XX:MaxRAMPercentage=30",
          "-XX:TieredStopAtLevel=1",
          "-XX:MinHeapFreeRatio=10",
          "-XX:MaxHeapFreeRatio=30",
          "-XX:TrimNativeHeapInterval=2000",
          "-XX:ReservedCodeCacheSize=64m",
          "-XX:+UseCompactObjectHeaders",
          "-XX:+ExitOnOutOfMemoryError");

  /** The chart's memory limit for the operator (values.yaml resources.limits.memory). */
  static final String MAX_RAM = "320m";

  private final Process process;
  private final Path log;
  private final int metricsPort;
  private final List<String> extraFlags;

  /**
   * Largest VmRSS seen since the start, sampled every 500 ms: "through the admissions" is a peak,
   * and a settled figure taken after a step misses the burst.
   */
  private final java.util.concurrent.atomic.DoubleAccumulator peakRss =
      new java.util.concurrent.atomic.DoubleAccumulator(Math::max, 0);

  private OperatorProcess(Process process, Path log, int metricsPort, List<String> extraFlags) {
    this.process = process;
    this.log = log;
    this.metricsPort = metricsPort;
    this.extraFlags = extraFlags;
    Thread.ofVirtual()
        .name("operator-rss")
        .start(
            () -> {
              while (process.isAlive()) {
                peakRss.accumulate(Proc.rssMiB(process.pid()));
                sleep(500);
              }
            });
  }

  /** The largest RSS sampled since the operator started, in MiB. */
  double peakRssMiB() {
    return Math.max(peakRss.get(), Proc.rssMiB(process.pid()));
  }

  /** The extra JVM flags of this run (capgate.bench.operatorJvmFlags), for the tables. */
  String extraFlags() {
    return String.join(" ", extraFlags);
  }

  /**
   * With {@code -Dcapgate.bench.operatorJvmFlags=-XX:NativeMemoryTracking=summary}: where the
   * operator's memory is by the JVM's own accounting (heap, metaspace, code, threads, malloc), its
   * heap and its thread count, written to {@code target/bench/operator-nmt-<label>.txt}; nothing
   * without NMT.
   */
  void nmt(String label) {
    if (extraFlags.stream().noneMatch(f -> f.startsWith("-XX:NativeMemoryTracking"))) {
      return;
    }
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    StringBuilder out = new StringBuilder();
    out.append("VmRSS ").append(Proc.rssMiB(process.pid())).append(" MiB, peak so far ");
    out.append(peakRssMiB()).append(" MiB, CPU ");
    out.append(String.format(java.util.Locale.ROOT, "%.1f", Proc.cpuSeconds(process.pid())));
    out.append(" s since the start\n");
    // GC count and time per collector (young, full) since the start: what a smaller heap costs.
    String counters =
        dev.capgate.sidecar.netns.Command.run(
                List.of(jcmd, Long.toString(process.pid()), "PerfCounter.print"))
            .stdout();
    long hz = 1;
    for (String line : counters.split("\n")) {
      if (line.startsWith("sun.os.hrt.frequency=")) {
        hz = Long.parseLong(line.substring(line.indexOf('=') + 1).strip());
      }
    }
    for (String line : counters.split("\n")) {
      var m =
          java.util.regex.Pattern.compile(
                  "^sun\\.gc\\.collector\\.(\\d)\\.(invocations|time)=(\\d+)")
              .matcher(line);
      if (m.find()) {
        long v = Long.parseLong(m.group(3));
        out.append("GC collector ").append(m.group(1)).append(' ').append(m.group(2)).append(' ');
        out.append(m.group(2).equals("time") ? (v * 1000 / hz) + " ms" : Long.toString(v));
        out.append('\n');
      }
    }
    out.append('\n');
    // NMT's summary carries the classes loaded and the threads too.
    for (String what : List.of("VM.native_memory summary", "GC.heap_info")) {
      List<String> cmd = new ArrayList<>(List.of(jcmd, Long.toString(process.pid())));
      cmd.addAll(List.of(what.split(" ")));
      var r = dev.capgate.sidecar.netns.Command.run(cmd);
      out.append("## ").append(what).append('\n').append(r.stdout()).append("\n\n");
    }
    try {
      java.nio.file.Files.writeString(
          Path.of("target", "bench", "operator-nmt-" + label + ".txt").toAbsolutePath(), out);
    } catch (IOException e) {
      Bench.say("operator: could not write the NMT summary: " + e);
    }
  }

  /**
   * The operator's own count and total time of the admissions it answered with a patch
   * (capgate_admission_duration_seconds{outcome="patched"}): the part of "added by the webhook"
   * spent inside the operator's call, the rest being the API server's (TLS, AdmissionReview, patch,
   * the larger pod).
   */
  record PatchedAdmissions(long count, double seconds) {
    PatchedAdmissions minus(PatchedAdmissions before) {
      return new PatchedAdmissions(count - before.count, seconds - before.seconds);
    }

    double meanMs() {
      return count == 0 ? Double.NaN : seconds * 1000 / count;
    }
  }

  PatchedAdmissions patchedAdmissions() {
    long count = 0;
    double seconds = 0;
    try (var http = java.net.http.HttpClient.newHttpClient()) {
      String text =
          http.send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                      .timeout(Duration.ofSeconds(10))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
      for (String line : text.split("\n")) {
        if (!line.contains("outcome=\"patched\"")) {
          continue;
        }
        String value = line.substring(line.lastIndexOf(' ') + 1);
        if (line.startsWith("capgate_admission_duration_seconds_count")) {
          count = (long) Double.parseDouble(value);
        } else if (line.startsWith("capgate_admission_duration_seconds_sum")) {
          seconds = Double.parseDouble(value);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return new PatchedAdmissions(count, seconds);
  }

  static OperatorProcess start(KubeControlPlane kube, OpenBaoServer bao, Path jar, Path dir) {
    KubernetesClient client = kube.client();
    client
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .createOr(NonDeletingOperation::update);
    int port = freePort();
    int metricsPort = freePort();
    Map<String, String> env = new HashMap<>();
    env.put("KUBECONFIG", kube.kubeconfig().toString());
    // As the image sets it (operator/Dockerfile): glibc's per-thread arenas otherwise grow RSS.
    env.put("MALLOC_ARENA_MAX", "2");
    env.put("CAPGATE_NAMESPACE", NAMESPACE);
    env.put("CAPGATE_SIDECAR_IMAGE", "capgate/sidecar:bench");
    env.put("CAPGATE_VAULT_ADDR", bao.address());
    env.put("CAPGATE_OPERATOR_VAULT_TOKEN", bao.rootToken());
    env.put("CAPGATE_WEBHOOK_HOST", "127.0.0.1");
    env.put("CAPGATE_WEBHOOK_PORT", Integer.toString(port));
    // Not the default 8080: other programs on the machine may hold it.
    env.put("CAPGATE_METRICS_PORT", Integer.toString(metricsPort));
    // Any free port: injected sidecars get the host of CAPGATE_WEBHOOK_URL with the port chosen.
    env.put("CAPGATE_IDENTITY_PORT", "0");
    env.put("CAPGATE_WEBHOOK_URL", "https://127.0.0.1:" + port + "/mutate");
    env.put("CAPGATE_WEBHOOK_CERT_NAMES", "127.0.0.1");
    env.put("CAPGATE_WEBHOOK_CONFIGURATION", WEBHOOK_CONFIGURATION);
    env.put("CAPGATE_LEADER_ELECTION", "false");
    env.put("CAPGATE_ORPHANED_CA_GRACE", "10m");
    // No rollout here: close() sends SIGTERM and waits 10 s, less than the default drain.
    env.put("CAPGATE_SHUTDOWN_DRAIN", "0s");
    List<String> cmd = new ArrayList<>(List.of(BenchPod.JAVA));
    cmd.addAll(JVM_FLAGS);
    cmd.add("-XX:MaxRAM=" + MAX_RAM);
    // Extra diagnostics flags (e.g. -XX:NativeMemoryTracking=summary), none by default.
    String extra = System.getProperty("capgate.bench.operatorJvmFlags", "").strip();
    List<String> extraFlags = extra.isEmpty() ? List.of() : List.of(extra.split("\\s+"));
    cmd.addAll(extraFlags);
    cmd.addAll(List.of("-jar", jar.toString()));
    Path log = dir.resolve("operator.log");
    try {
      ProcessBuilder b =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      b.environment().putAll(env);
      OperatorProcess operator = new OperatorProcess(b.start(), log, metricsPort, extraFlags);
      operator.awaitWebhook(client);
      return operator;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  long pid() {
    return process.pid();
  }

  private void awaitWebhook(KubernetesClient client) {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "operator exited with " + process.exitValue() + ":\n" + BenchPod.tail(log));
      }
      if (client
              .admissionRegistration()
              .v1()
              .mutatingWebhookConfigurations()
              .withName(WEBHOOK_CONFIGURATION)
              .get()
          != null) {
        return;
      }
      sleep(200);
    }
    throw new IllegalStateException(
        "operator registered no webhook within 120 s:\n" + BenchPod.tail(log));
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    BenchPod.stop(process);
  }
}
