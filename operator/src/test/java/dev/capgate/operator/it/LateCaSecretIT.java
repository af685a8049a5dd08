package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.ca.HostConstraints;
import dev.capgate.operator.ca.MintedCa;
import dev.capgate.operator.ca.PodCaMinter;
import dev.capgate.operator.ca.PodCaObjects;
import dev.capgate.operator.events.KubernetesEvents;
import dev.capgate.operator.injection.PodCaWriter;
import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The webhook stores a pod's CA Secret after answering (issue 13, {@link PodCaWriter}), so the
 * Secret may appear after its pod, and someone else may create a Secret under its name first. Both
 * against the real API server and the operator's real reconciler; the writer is the operator's
 * class, driven directly so that the order of events is the test's, not a race's.
 */
class LateCaSecretIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  static OperatorUnderTest stack;
  static KubernetesClient client;
  static String ns;
  static KubernetesEvents events;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    client = stack.client;
    ns = stack.kube.newNamespace("late-ca");
    events = new KubernetesEvents(client, "late-ca-it");
  }

  /**
   * The pod exists (the webhook's answer) before its CA Secret is stored: the reconciler hands the
   * Secret to the pod when it appears, so it goes with the pod as before.
   */
  @Test
  void aCaSecretStoredAfterItsPodIsHandedToThePod() throws Exception {
    stack.createSession(ns, githubSession("late"));
    String caName = PodCaObjects.newName();
    // What custody reads of an injected pod: the session label and the CA annotation. Without the
    // opt-in label the webhook leaves this pod alone, so its CA can be stored whenever the test
    // says.
    Pod pod =
        client
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withNamespace(ns)
                    .withName("late-ca-pod")
                    .withLabels(Map.of(PodMarkers.SESSION, "late"))
                    .withAnnotations(Map.of(PodMarkers.CA, caName))
                    .endMetadata()
                    .withNewSpec()
                    .addNewContainer()
                    .withName("app")
                    .withImage("registry.example/app:1")
                    .endContainer()
                    .endSpec()
                    .build())
            .create();
    AgentSession session = stack.session(ns, "late");
    // Let the reconciler see the pod without its CA first (the order this test is about).
    Thread.sleep(1_000);
    assertThat(client.secrets().inNamespace(ns).withName(caName).get()).isNull();

    try (PodCaWriter writer = new PodCaWriter(client, events)) {
      writer.write(caSecret(session, caName), session, "minted pod CA " + caName);
      assertThat(writer.pending(ns, caName)).as("pending until stored").isNotNull();
    } // close() waits for the write

    await("handed over to the pod that was there first")
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .secrets()
                            .inNamespace(ns)
                            .withName(caName)
                            .get()
                            .getMetadata()
                            .getOwnerReferences())
                    .extracting(OwnerReference::getUid)
                    .containsExactly(pod.getMetadata().getUid()));
    await("CaMinted recorded once stored")
        .atMost(WAIT)
        .until(() -> eventsOn("late", "CaMinted").contains(caName));
  }

  /**
   * Attacker B creates a Secret under the pod CA's name (B can read the pod's annotations) before
   * the webhook stores it. The webhook's write does not replace it; a CaSquatted warning names it;
   * a pod re-submitted with that CA is refused by the re-invocation check (InjectionClaim), and the
   * pod itself never starts: capgate-init checks root.crt against the fingerprint in its own
   * environment (AgentTrustTest).
   */
  @Test
  void aSquattedCaSecretIsNeitherReplacedNorTakenForTheCa() {
    stack.createSession(ns, githubSession("squatted"));
    AgentSession session = stack.session(ns, "squatted");
    String caName = PodCaObjects.newName();
    String bRoot = "-----BEGIN CERTIFICATE-----\nB's root\n-----END CERTIFICATE-----\n";
    client
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withNamespace(ns)
                .withName(caName)
                .withLabels(PodCaObjects.selector("squatted"))
                .endMetadata()
                .addToData(PodCaObjects.ROOT_KEY, base64(bRoot))
                .build())
        .create();

    Secret ours = caSecret(session, caName);
    try (PodCaWriter writer = new PodCaWriter(client, events)) {
      writer.write(ours, session, "minted pod CA " + caName);
    }

    Secret stored = client.secrets().inNamespace(ns).withName(caName).get();
    assertThat(stored.getData().get(PodCaObjects.ROOT_KEY)).isEqualTo(base64(bRoot));
    assertThat(stored.getData()).doesNotContainKey(PodCaObjects.CA_KEY_KEY);
    await("CaSquatted warning naming the Secret")
        .atMost(WAIT)
        .until(() -> eventsOn("squatted", "CaSquatted").contains(caName));
    assertThat(eventsOn("squatted", "CaMinted")).doesNotContain(caName);
  }

  private static Secret caSecret(AgentSession session, String caName) {
    MintedCa ca =
        new PodCaMinter(Clock.systemUTC(), Duration.ofHours(1))
            .mint(caName, HostConstraints.interceptedHosts(session.getSpec()), null);
    OwnerReference owner =
        new OwnerReferenceBuilder()
            .withApiVersion(session.getApiVersion())
            .withKind(session.getKind())
            .withName(session.getMetadata().getName())
            .withUid(session.getMetadata().getUid())
            .build();
    return PodCaObjects.secret(ns, caName, session.getMetadata().getName(), owner, ca, "{}");
  }

  private static String eventsOn(String session, String reason) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> session.equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .map(Event::getMessage)
        .toList()
        .toString();
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
