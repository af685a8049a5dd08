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
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
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
   * Secret to the pod when it appears, so it goes with the pod as before. The pod is a real
   * injected one (only the webhook may put a session label on a pod); its Secret is then taken away
   * and stored again by the writer, so that the pod is there first whatever the timing of the
   * webhook.
   */
  @Test
  void aCaSecretStoredAfterItsPodIsHandedToThePod() {
    stack.createSession(ns, githubSession("late"));
    Pod pod = stack.createPod(ns, OperatorUnderTest.agentPod("late-ca-pod", "late", "default"));
    String caName = pod.getMetadata().getAnnotations().get(PodMarkers.CA);
    await("first hand-over").atMost(WAIT).until(() -> ownerUid(caName) != null);
    client.secrets().inNamespace(ns).withName(caName).withGracePeriod(0).delete();
    await("the CA Secret gone").atMost(WAIT).until(() -> secret(caName) == null);
    AgentSession session = stack.session(ns, "late");

    try (PodCaWriter writer = new PodCaWriter(client, events)) {
      writer.write(caSecret(session, caName), session, "minted pod CA " + caName);
    } // close() waits for the write

    assertThat(secret(caName).getMetadata().getOwnerReferences())
        .extracting(OwnerReference::getKind)
        .as("stored as the webhook stores it: the session's until the reconciler hands it over")
        .containsAnyOf("AgentSession", "Pod");
    await("handed over to the pod that was there first")
        .atMost(WAIT)
        .until(() -> pod.getMetadata().getUid().equals(ownerUid(caName)));
    await("CaMinted recorded once stored (the webhook's first, then this writer's)")
        .atMost(WAIT)
        .until(() -> eventsOn("late", "CaMinted").split(caName, -1).length - 1 == 2);
  }

  private static Secret secret(String name) {
    return client.secrets().inNamespace(ns).withName(name).get();
  }

  /** The uid of the pod that owns the Secret, or null. */
  private static String ownerUid(String name) {
    Secret secret = secret(name);
    if (secret == null || secret.getMetadata().getOwnerReferences() == null) {
      return null;
    }
    return secret.getMetadata().getOwnerReferences().stream()
        .filter(o -> "Pod".equals(o.getKind()))
        .map(OwnerReference::getUid)
        .findFirst()
        .orElse(null);
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
    return PodCaObjects.sessionOwned(ns, caName, session, ca, "{}");
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
