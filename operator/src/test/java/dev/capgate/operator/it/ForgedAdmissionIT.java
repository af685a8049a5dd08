package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.operator.CapgateOperator;
import dev.capgate.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An attacker who reaches the webhook's port (the chart's NetworkPolicy is what keeps pods away,
 * when the CNI enforces it) posts AdmissionReviews by hand, for pods that will never exist. The
 * reviews no API server would send are refused with HTTP 400 and write nothing; a well-formed
 * forgery gets its answer (the webhook cannot tell it from the API server) and makes the operator
 * store a CA Secret and ConfigMap — which the reconciler deletes once no pod took them within
 * {@code CAPGATE_ORPHANED_CA_GRACE} (short here; 2m by default).
 */
class ForgedAdmissionIT {
  static final Duration GRACE = Duration.ofSeconds(3);

  static OperatorUnderTest stack;
  static KubernetesClient admin;
  static String agents;
  static CapgateOperator operator;
  static AdmissionClient attacker;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    admin = stack.client;
    agents = stack.kube.newNamespace("forged");
    Map<String, String> env = new HashMap<>();
    env.put("CAPGATE_NAMESPACE", stack.kube.newNamespace("capgate-forged"));
    // Its own namespace only; the JVM's shared operator (2m grace) reconciles it too, more slowly.
    env.put("CAPGATE_WATCH_NAMESPACES", agents);
    env.put("CAPGATE_ORPHANED_CA_GRACE", GRACE.toSeconds() + "s");
    env.put("CAPGATE_WEBHOOK_HOST", "127.0.0.1");
    env.put("CAPGATE_WEBHOOK_PORT", "0");
    env.put("CAPGATE_METRICS_PORT", "0");
    env.put("CAPGATE_IDENTITY_PORT", "0");
    env.put("CAPGATE_WEBHOOK_CERT_NAMES", "127.0.0.1");
    // The API server is not pointed at this operator: only the test calls it.
    env.put("CAPGATE_WEBHOOK_MANAGE_CONFIGURATION", "false");
    env.put("CAPGATE_WEBHOOK_CONFIGURATION", "capgate-forged-it-absent");
    env.put("CAPGATE_LEADER_ELECTION", "false");
    operator = CapgateOperator.start(admin, OperatorConfig.fromEnv(env), () -> {});
    attacker = new AdmissionClient(operator.webhookPort(), operator.caBundlePem());

    stack.createSession(agents, githubSession("target").ttl("1h"));
    await("the session is active")
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              AgentSession s = stack.session(agents, "target");
              return s.getStatus() != null && s.getStatus().phase() == Phase.Active;
            });
  }

  @AfterAll
  static void stop() {
    if (operator != null) {
      operator.close();
    }
  }

  @Test
  void aForgeryForAPodThatNeverComesLeavesNothingBehindAfterTheGrace() throws Exception {
    JsonNode response = attacker.create(agents, pod("never-created"));
    assertThat(response.get("allowed").asBoolean())
        .as("a well-formed forgery is answered")
        .isTrue();
    String ca =
        AdmissionClient.patch(response).findValues("value").stream()
            .filter(v -> v.has("capgate.dev/ca"))
            .map(v -> v.get("capgate.dev/ca").asText())
            .findFirst()
            .orElseThrow();
    await("CA Secret written (after the answer, issue 13)")
        .atMost(java.time.Duration.ofSeconds(30))
        .until(() -> admin.secrets().inNamespace(agents).withName(ca).get() != null);
    assertThat(admin.configMaps().inNamespace(agents).withName(ca).get())
        .as("no per-pod ConfigMap (issue 13)")
        .isNull();
    long start = System.nanoTime();

    await("the orphaned CA Secret is deleted")
        .atMost(GRACE.plusSeconds(60))
        .until(() -> admin.secrets().inNamespace(agents).withName(ca).get() == null);
    System.out.printf(
        "[measured] CA %s of a forged admission deleted %d ms after it was written (grace %s)%n",
        ca, Duration.ofNanos(System.nanoTime() - start).toMillis(), GRACE);
    assertThat(stack.session(agents, "target").getStatus().phase()).isEqualTo(Phase.Active);
  }

  @Test
  void reviewsNoApiServerWouldSendAreRefusedAndWriteNothing() throws Exception {
    Map<String, Consumer<ObjectNode>> forgeries = new LinkedHashMap<>();
    forgeries.put(
        "not a Pod (a ConfigMap's kind)",
        r ->
            request(r)
                .putObject("kind")
                .put("group", "")
                .put("version", "v1")
                .put("kind", "ConfigMap"));
    forgeries.put(
        "not pods",
        r ->
            request(r)
                .putObject("resource")
                .put("group", "")
                .put("version", "v1")
                .put("resource", "configmaps"));
    forgeries.put("no uid", r -> request(r).remove("uid"));
    forgeries.put("an empty uid", r -> request(r).put("uid", ""));
    forgeries.put(
        "the pod in another namespace",
        r ->
            ((ObjectNode) request(r).get("object").get("metadata"))
                .put("namespace", "kube-system"));
    forgeries.put("no namespace", r -> request(r).remove("namespace"));
    forgeries.put(
        "dryRun contradicting options.dryRun",
        r -> ((ObjectNode) request(r).get("options")).putArray("dryRun").add("All"));
    forgeries.put("a DELETE", r -> request(r).put("operation", "DELETE"));
    forgeries.put(
        "a CONNECT of pods/exec",
        r -> request(r).put("operation", "CONNECT").put("subResource", "exec"));
    forgeries.put("a CREATE of a subresource", r -> request(r).put("subResource", "binding"));
    forgeries.put(
        "a CREATE with an oldObject",
        r -> request(r).set("oldObject", request(r).get("object").deepCopy()));
    forgeries.put("an UPDATE without oldObject", r -> request(r).put("operation", "UPDATE"));
    forgeries.put("no userInfo", r -> request(r).remove("userInfo"));
    forgeries.put("admission.k8s.io/v1beta1", r -> r.put("apiVersion", "admission.k8s.io/v1beta1"));

    Map<String, String> answers = new LinkedHashMap<>();
    int index = 0;
    for (var forgery : forgeries.entrySet()) {
      ObjectNode review = AdmissionClient.createReview(agents, pod("forged-" + index++));
      forgery.getValue().accept(review);
      HttpResponse<String> answer = attacker.post(review.toString());
      answers.put(forgery.getKey(), answer.statusCode() + " " + answer.body());
    }
    HttpResponse<String> notJson = attacker.post("{\"request\":");
    answers.put("not JSON", notJson.statusCode() + " " + notJson.body());
    answers.forEach((what, answer) -> System.out.println("[evidence] " + what + ": " + answer));

    assertThat(answers)
        .allSatisfy((what, answer) -> assertThat(answer).as(what).startsWith("400 "));
    assertThat(answers.get("the pod in another namespace"))
        .contains("the pod's namespace differs from request.namespace");
    assertThat(answers.get("not a Pod (a ConfigMap's kind)"))
        .contains("request.kind is not core/v1 Pod");
    assertThat(answers.get("dryRun contradicting options.dryRun")).contains("contradicts");
    // Nothing was minted for any of them: no CA objects with the forged pods' names, none at all
    // in kube-system.
    assertThat(stack.podCaSecrets(agents)).as("CA Secrets").isZero();
    assertThat(
            admin
                .configMaps()
                .inNamespace(agents)
                .withLabel("capgate.dev/component", "pod-ca")
                .list()
                .getItems())
        .as("trust ConfigMaps")
        .isEmpty();
    assertThat(stack.podCaSecrets("kube-system")).isZero();

    // The shape the API server sends still works (and is then collected like any orphan).
    assertThat(attacker.create(agents, pod("well-formed")).get("allowed").asBoolean()).isTrue();
  }

  private static ObjectNode request(ObjectNode review) {
    return (ObjectNode) review.get("request");
  }

  private static Pod pod(String name) {
    Pod pod =
        OperatorUnderTest.SERIALIZATION.unmarshal(agentPod(name, "target", "default"), Pod.class);
    pod.getMetadata().setNamespace(agents);
    // An agent uid of its own, which admission hardening asks for.
    pod.getSpec()
        .setSecurityContext(
            new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder()
                .withRunAsUser(1000L)
                .build());
    return pod;
  }
}
