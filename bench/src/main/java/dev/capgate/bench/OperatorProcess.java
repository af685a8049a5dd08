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
          "-XX:MaxRAMPercentage=35",
          "-XX:MinHeapFreeRatio=10",
          "-XX:MaxHeapFreeRatio=30",
          "-XX:TrimNativeHeapInterval=2000",
          "-XX:ReservedCodeCacheSize=64m",
          "-XX:+UseCompactObjectHeaders",
          "-XX:+ExitOnOutOfMemoryError");

  /** The chart's memory limit for the operator (values.yaml resources.limits.memory). */
  static final String MAX_RAM = "448m";

  private final Process process;
  private final Path log;
  private final int metricsPort;

  private OperatorProcess(Process process, Path log, int metricsPort) {
    this.process = process;
    this.log = log;
    this.metricsPort = metricsPort;
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
    if (!extra.isEmpty()) {
      cmd.addAll(List.of(extra.split("\\s+")));
    }
    cmd.addAll(List.of("-jar", jar.toString()));
    Path log = dir.resolve("operator.log");
    try {
      ProcessBuilder b =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      b.environment().putAll(env);
      OperatorProcess operator = new OperatorProcess(b.start(), log, metricsPort);
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
