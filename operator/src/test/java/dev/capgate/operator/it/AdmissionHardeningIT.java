package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Invariant 7 through the real API server: each pod shape is refused with its message. */
class AdmissionHardeningIT {
  static OperatorUnderTest stack;
  static String ns;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    ns = stack.kube.newNamespace("hardening");
    stack.createSession(ns, githubSession("s", null));
  }

  static Stream<Arguments> refusedPods() {
    return Stream.of(
        Arguments.of("rejects hostNetwork", "hostNetwork: true", "", "spec.hostNetwork is true", "agent"),
        Arguments.of("rejects hostPID", "hostPID: true", "", "spec.hostPID is true", "agent"),
        Arguments.of("rejects shareProcessNamespace", "shareProcessNamespace: true", "", "spec.shareProcessNamespace is true", "agent"),
        Arguments.of("rejects privileged agent containers", "", "securityContext: {privileged: true}",
            "container \"agent\" is privileged", "agent"),
        Arguments.of("rejects agent containers adding NET_ADMIN", "", "securityContext: {capabilities: {add: [NET_ADMIN]}}",
            "container \"agent\" adds capability NET_ADMIN", "agent"),
        Arguments.of("rejects agent containers adding NET_RAW", "", "securityContext: {capabilities: {add: [NET_RAW]}}",
            "container \"agent\" adds capability NET_RAW", "agent"),
        Arguments.of("rejects agent containers adding SYS_ADMIN", "", "securityContext: {capabilities: {add: [SYS_ADMIN]}}",
            "container \"agent\" adds capability SYS_ADMIN", "agent"),
        Arguments.of("rejects agent containers adding ALL", "", "securityContext: {capabilities: {add: [ALL]}}",
            "container \"agent\" adds capability ALL", "agent"),
        Arguments.of("rejects agent containers running as the sidecar's uid", "", "securityContext: {runAsUser: 1337}",
            "container \"agent\" runs as uid 1337, the capgate sidecar's uid", "agent"),
        Arguments.of("rejects a pod-level runAsUser of the sidecar's uid", "securityContext: {runAsUser: 1337}", "",
            "runs as uid 1337 (from the pod's securityContext)", "agent"),
        Arguments.of("rejects agent containers mounting a CA key secret",
            "volumes: [{name: stolen, secret: {secretName: capgate-ca-bcdfghjklm}}]",
            "volumeMounts: [{name: stolen, mountPath: /stolen}]",
            "mounts volume \"stolen\", which holds the pod CA key", "agent"),
        Arguments.of("rejects agent containers mounting the sidecar's CA volume", "",
            "volumeMounts: [{name: capgate-ca, mountPath: /stolen}]",
            "mounts volume \"capgate-ca\", which holds the pod CA key", "agent"),
        Arguments.of("rejects agent containers mounting the sidecar's token", "",
            "volumeMounts: [{name: capgate-token, mountPath: /stolen}]",
            "mounts volume \"capgate-token\", which holds a service-account token", "agent"),
        Arguments.of("rejects agent containers mounting a service-account token of their own",
            "volumes: [{name: own-token, projected: {sources: [{serviceAccountToken: {path: token}}]}}]",
            "volumeMounts: [{name: own-token, mountPath: /token}]",
            "mounts volume \"own-token\", which holds a service-account token", "agent"),
        Arguments.of("rejects hostPath volumes in agent containers",
            "volumes: [{name: node, hostPath: {path: /}}]", "volumeMounts: [{name: node, mountPath: /node}]",
            "mounts volume \"node\", a hostPath volume", "agent"),
        Arguments.of("rejects containers named like the sidecar", "", "",
            "container name \"capgate-proxy\" is reserved", "capgate-proxy"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedPods")
  void refuses(String rule, String podSpec, String containerSpec, String message, String containerName) {
    String pod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: hardened
          labels: {capgate.dev/inject: "true", capgate.dev/session: s}
        spec:
          %s
          containers:
          - name: %s
            image: registry.example/agent:1.0
            %s
        """.formatted(podSpec, containerName, containerSpec);
    stack.assertRefused(ns, pod, message);
  }

  /**
   * UPDATE of an injected, stored pod: images are mutable on a running pod, labels and
   * annotations always. Capgate's containers and markers are refused, anything else goes through.
   */
  static Stream<Arguments> refusedUpdates() {
    return Stream.of(
        Arguments.of("refuses changing the sidecar's image", (UnaryOperator<Pod>) p -> new PodBuilder(p).editSpec()
                .editMatchingInitContainer(c -> c.getName().equals("capgate-proxy")).withImage("evil/proxy:allow-all")
                .endInitContainer().endSpec().build(),
            "the image of container \"capgate-proxy\" cannot be changed"),
        Arguments.of("refuses changing the init container's image", (UnaryOperator<Pod>) p -> new PodBuilder(p).editSpec()
                .editMatchingInitContainer(c -> c.getName().equals("capgate-init")).withImage("evil/init:no-rules")
                .endInitContainer().endSpec().build(),
            "the image of container \"capgate-init\" cannot be changed"),
        Arguments.of("refuses removing the sidecar", (UnaryOperator<Pod>) p -> new PodBuilder(p).editSpec()
                .removeMatchingFromInitContainers(c -> c.getName().equals("capgate-proxy")).endSpec().build(),
            "container \"capgate-proxy\" cannot be removed from an injected pod"),
        Arguments.of("refuses moving the pod to another session", (UnaryOperator<Pod>) p -> new PodBuilder(p).editMetadata()
                .addToLabels("capgate.dev/session", "other").endMetadata().build(),
            "label capgate.dev/session cannot be changed on a running pod"),
        Arguments.of("refuses removing the session label", (UnaryOperator<Pod>) p -> new PodBuilder(p).editMetadata()
                .removeFromLabels("capgate.dev/session").endMetadata().build(),
            "label capgate.dev/session cannot be removed from a running pod"),
        Arguments.of("refuses removing the opt-in label", (UnaryOperator<Pod>) p -> new PodBuilder(p).editMetadata()
                .removeFromLabels("capgate.dev/inject").endMetadata().build(),
            "label capgate.dev/inject cannot be removed from a running pod"),
        Arguments.of("refuses changing the CA annotation", (UnaryOperator<Pod>) p -> new PodBuilder(p).editMetadata()
                .addToAnnotations("capgate.dev/ca", "capgate-ca-bcdfghjklm").endMetadata().build(),
            "annotation capgate.dev/ca cannot be changed on a running pod"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedUpdates")
  void refusesUpdates(String rule, UnaryOperator<Pod> change, String message) {
    Pod stored = injectedPod();
    Pod before = stack.client.pods().inNamespace(ns).withName(stored.getMetadata().getName()).get();
    assertThatThrownBy(() -> stack.client.pods().inNamespace(ns).withName(stored.getMetadata().getName()).edit(change))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("capgate refused pod " + stored.getMetadata().getName())
        .hasMessageContaining(message);
    Pod after = stack.client.pods().inNamespace(ns).withName(stored.getMetadata().getName()).get();
    assertThat(after.getMetadata().getResourceVersion()).isEqualTo(before.getMetadata().getResourceVersion());
  }

  @Test
  void updatesThatLeaveCapgateAloneGoThrough() {
    Pod stored = injectedPod();
    Pod updated = stack.client.pods().inNamespace(ns).withName(stored.getMetadata().getName()).edit(p -> new PodBuilder(p)
        .editMetadata().addToLabels("team", "payments").addToAnnotations("note", "reviewed").endMetadata()
        .editSpec().editFirstContainer().withImage("registry.example/agent:1.1").endContainer().endSpec().build());
    assertThat(updated.getMetadata().getLabels()).containsEntry("team", "payments");
    assertThat(updated.getSpec().getContainers().getFirst().getImage()).isEqualTo("registry.example/agent:1.1");
    assertThat(updated.getSpec().getInitContainers().get(1).getImage()).isEqualTo(OperatorUnderTest.SIDECAR_IMAGE);
  }

  /** A pod that was not injected cannot join a session later: by the webhook, or by the policy. */
  @Test
  void aRunningPodCannotOptInOrPassForASessionsPod() {
    Pod plain = stack.createPod(ns, """
        apiVersion: v1
        kind: Pod
        metadata: {name: plain-%d}
        spec:
          containers: [{name: app, image: registry.example/app:1}]
        """.formatted(PODS.incrementAndGet()));
    var pods = stack.client.pods().inNamespace(ns).withName(plain.getMetadata().getName());
    // With the opt-in label the webhook sees the update.
    assertThatThrownBy(() -> pods.edit(p -> new PodBuilder(p).editMetadata().addToLabels("capgate.dev/inject", "true")
        .addToLabels("capgate.dev/session", "s").endMetadata().build()))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("label capgate.dev/inject cannot be added to a running pod");
    // Without it the webhook does not, the API server's policy does.
    assertThatThrownBy(() -> pods.edit(p -> new PodBuilder(p).editMetadata().addToLabels("capgate.dev/session", "s")
        .addToAnnotations("capgate.dev/status", "injected").endMetadata().build()))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("only pods the capgate webhook admits may carry them");
    // Nor can a pod be created looking like one (forged markers, no opt-in label).
    assertThatThrownBy(() -> stack.createPod(ns, """
        apiVersion: v1
        kind: Pod
        metadata:
          name: forged
          labels: {capgate.dev/session: s}
          annotations: {capgate.dev/status: injected}
        spec:
          containers: [{name: app, image: registry.example/app:1}]
        """)).isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("only pods the capgate webhook admits may carry them");
  }

  private static final java.util.concurrent.atomic.AtomicInteger PODS = new java.util.concurrent.atomic.AtomicInteger();

  private static Pod injectedPod() {
    return stack.createPod(ns, OperatorUnderTest.agentPod("updated-" + PODS.incrementAndGet(), "s", "default"));
  }
}
