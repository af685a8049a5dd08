package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.operator.webhook.UnservedNamespacePolicy;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.TestClassPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator as its image runs it (a JVM running {@code Main}) against the real API server, sent
 * SIGTERM as the kubelet does in a rollout: the webhook keeps answering the API server through the
 * drain window, {@code /readyz} fails from the signal on while {@code /healthz} stays up, and the
 * process exits 0 (LifecycleE2E saw EOF from the webhook and an {@code Error} pod).
 *
 * <p>The pods sent are opted in but name no session, so every answer is a refusal with capgate's
 * reason: that reason in the API server's error is the proof that the webhook answered (an
 * unreachable webhook is "failed calling webhook", which the last create, after the exit, shows).
 */
class GracefulStopIT {
  private static final String CONFIGURATION = "capgate-graceful-stop-it";
  private static final Duration DRAIN = Duration.ofSeconds(6);

  @TempDir Path dir;
  private final KubeControlPlane kube = KubeControlPlane.shared();
  private final KubernetesClient client = kube.client();
  private Process operator;

  @AfterEach
  void cleanUp() {
    if (operator != null && operator.isAlive()) {
      operator.destroyForcibly();
    }
    // Its watchNamespaces made the operator apply its unserved-namespaces policy: left behind in
    // the shared API server, it refuses every later test's opted-in pods.
    OperatorUnderTest.removeInstallation(client, CONFIGURATION);
    String policy = UnservedNamespacePolicy.name(CONFIGURATION);
    // Probed in kube-system, which no capgate webhook sees (a webhook's refusal would hide the
    // policy's): the next test class must not meet the policy still in the API server's cache.
    OperatorUnderTest.awaitPolicy(
        client, "kube-system", agentPod("probe", "no-session", "default"), policy, false);
  }

  @Test
  void sigtermDrainsThenExitsZero() throws Exception {
    kube.applyCrd(OperatorUnderTest.CRD);
    String operatorNs = kube.newNamespace("stop-operator");
    String ns = kube.newNamespace("stop");
    kube.newServiceAccount(ns, "agent");
    int port = freePort();
    Path stderr = dir.resolve("operator.log");
    ProcessBuilder builder =
        new ProcessBuilder(TestClassPath.javaCommand("dev.capgate.operator.Main"))
            .redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    var env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("CAPGATE_"));
    env.put("KUBECONFIG", kube.kubeconfig().toString());
    env.put("CAPGATE_NAMESPACE", operatorNs);
    env.put("CAPGATE_WATCH_NAMESPACES", ns);
    env.put("CAPGATE_WEBHOOK_HOST", "127.0.0.1");
    env.put("CAPGATE_WEBHOOK_PORT", String.valueOf(port));
    env.put("CAPGATE_WEBHOOK_URL", "https://127.0.0.1:" + port + "/mutate");
    env.put("CAPGATE_WEBHOOK_CERT_NAMES", "127.0.0.1");
    env.put("CAPGATE_WEBHOOK_CONFIGURATION", CONFIGURATION);
    env.put("CAPGATE_LEADER_ELECTION_LEASE", "capgate-graceful-stop-it");
    env.put("CAPGATE_IDENTITY_PORT", "0");
    env.put("CAPGATE_METRICS_PORT", "0");
    env.put("CAPGATE_SHUTDOWN_DRAIN", DRAIN.toSeconds() + "s");
    operator = builder.start();
    await("operator started")
        .atMost(Duration.ofSeconds(120))
        .until(() -> !operator.isAlive() || Files.readString(stderr).contains("started (webhook"));
    assertThat(operator.isAlive()).as("operator running; its log: %s", log(stderr)).isTrue();

    HttpClient https =
        HttpClient.newBuilder()
            .sslContext(CaTrust.trustingOnly(caBundle()))
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    String base = "https://127.0.0.1:" + port;
    assertThat(status(https, base + "/readyz")).isEqualTo(200);
    // The API server has a keep-alive connection to the webhook before the signal, as in a rollout.
    assertThat(refusal(ns, "before")).contains("capgate refused pod");

    long signalled = System.nanoTime();
    new ProcessBuilder("kill", "-TERM", String.valueOf(operator.pid())).start().waitFor();
    await("readiness fails")
        .atMost(Duration.ofSeconds(3))
        .until(() -> status(https, base + "/readyz") == 503);
    assertThat(status(https, base + "/healthz")).isEqualTo(200);

    // Pods created all through the drain window: every one answered by the webhook.
    List<String> answers = new ArrayList<>();
    int n = 0;
    while (elapsed(signalled).compareTo(DRAIN.minusMillis(500)) < 0) {
      answers.add(refusal(ns, "during-" + n++));
    }
    Duration lastAnswered = elapsed(signalled);
    assertThat(answers)
        .hasSizeGreaterThanOrEqualTo(5)
        .allMatch(a -> a.contains("capgate refused pod"));

    assertThat(operator.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
    Duration exited = elapsed(signalled);
    assertThat(operator.exitValue()).as("exit status; log: %s", log(stderr)).isZero();
    assertThat(exited).isGreaterThanOrEqualTo(DRAIN);
    assertThat(log(stderr)).contains("draining").contains("\"stopped\"");
    // The control: with the process gone the same create fails for want of a webhook.
    assertThat(refusal(ns, "after")).contains("failed calling webhook");
    org.slf4j.LoggerFactory.getLogger(GracefulStopIT.class)
        .info(
            "{} admissions answered during the drain, the last {} ms after SIGTERM; exit 0 {} ms"
                + " after SIGTERM",
            answers.size(),
            lastAnswered.toMillis(),
            exited.toMillis());
  }

  /** Creates an opted-in pod naming no session; the API server's error message. */
  private String refusal(String ns, String name) {
    Pod pod =
        OperatorUnderTest.SERIALIZATION.unmarshal(
            agentPod(name, "no-such-session", "agent"), Pod.class);
    pod.getMetadata().setNamespace(ns);
    try {
      client.resource(pod).create();
      return "created";
    } catch (KubernetesClientException e) {
      return String.valueOf(e.getMessage());
    }
  }

  private String caBundle() {
    byte[] ca =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(CONFIGURATION)
            .get()
            .getWebhooks()
            .get(0)
            .getClientConfig()
            .getCaBundle()
            .getBytes(StandardCharsets.US_ASCII);
    return new String(Base64.getDecoder().decode(ca), StandardCharsets.US_ASCII);
  }

  private static int status(HttpClient https, String url) throws Exception {
    return https
        .send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static Duration elapsed(long since) {
    return Duration.ofNanos(System.nanoTime() - since);
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static String log(Path file) throws Exception {
    return Files.readString(file);
  }
}
