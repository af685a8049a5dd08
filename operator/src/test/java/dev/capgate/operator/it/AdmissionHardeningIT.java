package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.api.model.Binding;
import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.List;
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
    stack.createSession(ns, githubSession("s"));
  }

  static Stream<Arguments> refusedPods() {
    return Stream.of(
        Arguments.of(
            "rejects hostNetwork", "hostNetwork: true", "", "spec.hostNetwork is true", "agent"),
        Arguments.of("rejects hostPID", "hostPID: true", "", "spec.hostPID is true", "agent"),
        Arguments.of(
            "rejects shareProcessNamespace",
            "shareProcessNamespace: true",
            "",
            "spec.shareProcessNamespace is true",
            "agent"),
        Arguments.of(
            "rejects privileged agent containers",
            "",
            "securityContext: {privileged: true}",
            "container \"agent\" is privileged",
            "agent"),
        Arguments.of(
            "rejects agent containers adding NET_ADMIN",
            "",
            "securityContext: {capabilities: {add: [NET_ADMIN]}}",
            "container \"agent\" adds capability NET_ADMIN",
            "agent"),
        Arguments.of(
            "rejects agent containers adding NET_RAW",
            "",
            "securityContext: {capabilities: {add: [NET_RAW]}}",
            "container \"agent\" adds capability NET_RAW",
            "agent"),
        Arguments.of(
            "rejects agent containers adding SYS_ADMIN",
            "",
            "securityContext: {capabilities: {add: [SYS_ADMIN]}}",
            "container \"agent\" adds capability SYS_ADMIN",
            "agent"),
        Arguments.of(
            "rejects agent containers adding ALL",
            "",
            "securityContext: {capabilities: {add: [ALL]}}",
            "container \"agent\" adds capability ALL",
            "agent"),
        Arguments.of(
            "rejects agent containers running as the sidecar's uid",
            "",
            "securityContext: {runAsUser: 1447}",
            "container \"agent\" runs as uid 1447, the capgate sidecar's uid",
            "agent"),
        Arguments.of(
            "rejects a pod-level runAsUser of the sidecar's uid",
            "securityContext: {runAsUser: 1447}",
            "",
            "runs as uid 1447 (from the pod's securityContext)",
            "agent"),
        Arguments.of(
            "rejects agent containers mounting a CA key secret",
            "volumes: [{name: stolen, secret: {secretName: capgate-ca-bcdfghjklm}}]",
            "volumeMounts: [{name: stolen, mountPath: /stolen}]",
            "mounts volume \"stolen\", which holds the pod CA key",
            "agent"),
        Arguments.of(
            "rejects agent containers mounting the sidecar's CA volume",
            "",
            "volumeMounts: [{name: capgate-ca, mountPath: /stolen}]",
            "mounts volume \"capgate-ca\", which holds the pod CA key",
            "agent"),
        Arguments.of(
            "rejects agent containers mounting the sidecar's token",
            "",
            "volumeMounts: [{name: capgate-token, mountPath: /stolen}]",
            "mounts volume \"capgate-token\", which holds a service-account token",
            "agent"),
        Arguments.of(
            "rejects agent containers mounting a service-account token of their own",
            "volumes: [{name: own-token, projected: {sources: [{serviceAccountToken: {path: token}}]}}]",
            "volumeMounts: [{name: own-token, mountPath: /token}]",
            "mounts volume \"own-token\", which holds a service-account token",
            "agent"),
        Arguments.of(
            "rejects hostPath volumes in agent containers",
            "volumes: [{name: node, hostPath: {path: /}}]",
            "volumeMounts: [{name: node, mountPath: /node}]",
            "mounts volume \"node\", a hostPath volume",
            "agent"),
        Arguments.of(
            "rejects containers named like the sidecar",
            "",
            "",
            "container name \"capgate-proxy\" is reserved",
            "capgate-proxy"),
        Arguments.of(
            "image USER cannot matter: runAsUser required",
            "",
            "securityContext: {}",
            "container \"agent\" sets no runAsUser: set securityContext.runAsUser (any uid but 1447; 0 is allowed)",
            "agent"),
        Arguments.of(
            "a root init container of the agent's without runAsUser → refused",
            "initContainers: [{name: setup, image: 'python:3'}]",
            "securityContext: {runAsUser: 0}",
            "container \"setup\" sets no runAsUser",
            "agent"),
        Arguments.of(
            "adds SYS_PTRACE → refused",
            "",
            "securityContext: {runAsUser: 0, capabilities: {add: [SYS_PTRACE]}}",
            "container \"agent\" adds capability SYS_PTRACE, which would let it change its uid",
            "agent"),
        Arguments.of(
            "adds SETUID → refused",
            "",
            "securityContext: {runAsUser: 0, capabilities: {add: [CAP_SETUID]}}",
            "container \"agent\" adds capability SETUID",
            "agent"),
        Arguments.of(
            "allowPrivilegeEscalation true → refused",
            "",
            "securityContext: {runAsUser: 1000, allowPrivilegeEscalation: true}",
            "container \"agent\" sets allowPrivilegeEscalation: true",
            "agent"),
        Arguments.of("hostIPC → refused", "hostIPC: true", "", "spec.hostIPC is true", "agent"),
        Arguments.of(
            "hostPort → refused",
            "",
            "ports: [{containerPort: 8080, hostPort: 8080}]",
            "container \"agent\" sets hostPort 8080",
            "agent"),
        Arguments.of(
            "runAsGroup 1447 → refused",
            "",
            "securityContext: {runAsUser: 1000, runAsGroup: 1447}",
            "container \"agent\" runs as group 1447",
            "agent"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedPods")
  void refuses(
      String rule, String podSpec, String containerSpec, String message, String containerName) {
    if (!podSpec.contains("securityContext") && !containerSpec.contains("securityContext")) {
      // Each case shows one problem: the uid capgate requires is set unless the case is about it.
      containerSpec =
          containerSpec.isEmpty()
              ? "securityContext: {runAsUser: 1000}"
              : containerSpec + "\n    securityContext: {runAsUser: 1000}";
    }
    String pod =
        """
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
        """
            .formatted(podSpec, containerName, containerSpec);
    stack.assertRefused(ns, pod, message);
  }

  /**
   * UPDATE of an injected, stored pod: images are mutable on a running pod, labels and annotations
   * always. Capgate's containers and markers are refused, anything else goes through.
   */
  static Stream<Arguments> refusedUpdates() {
    return Stream.of(
        Arguments.of(
            "refuses changing the sidecar's image",
            (UnaryOperator<Pod>)
                p ->
                    new PodBuilder(p)
                        .editSpec()
                        .editMatchingInitContainer(c -> c.getName().equals("capgate-proxy"))
                        .withImage("evil/proxy:allow-all")
                        .endInitContainer()
                        .endSpec()
                        .build(),
            "the image of container \"capgate-proxy\" cannot be changed"),
        Arguments.of(
            "refuses changing the init container's image",
            (UnaryOperator<Pod>)
                p ->
                    new PodBuilder(p)
                        .editSpec()
                        .editMatchingInitContainer(c -> c.getName().equals("capgate-init"))
                        .withImage("evil/init:no-rules")
                        .endInitContainer()
                        .endSpec()
                        .build(),
            "the image of container \"capgate-init\" cannot be changed"),
        Arguments.of(
            "refuses removing the sidecar",
            (UnaryOperator<Pod>)
                p ->
                    new PodBuilder(p)
                        .editSpec()
                        .removeMatchingFromInitContainers(c -> c.getName().equals("capgate-proxy"))
                        .endSpec()
                        .build(),
            "container \"capgate-proxy\" cannot be removed from an injected pod"),
        Arguments.of(
            "refuses moving the pod to another session",
            (UnaryOperator<Pod>)
                p ->
                    new PodBuilder(p)
                        .editMetadata()
                        .addToLabels("capgate.dev/session", "other")
                        .endMetadata()
                        .build(),
            "label capgate.dev/session cannot be changed on a running pod"),
        Arguments.of(
            "refuses removing the session label",
            (UnaryOperator<Pod>)
                p ->
                    new PodBuilder(p)
                        .editMetadata()
                        .removeFromLabels("capgate.dev/session")
                        .endMetadata()
                        .build(),
            "label capgate.dev/session cannot be removed from a running pod"),
        Arguments.of(
            "refuses removing the opt-in label",
            (UnaryOperator<Pod>)
                p ->
                    new PodBuilder(p)
                        .editMetadata()
                        .removeFromLabels("capgate.dev/inject")
                        .endMetadata()
                        .build(),
            "label capgate.dev/inject cannot be removed from a running pod"),
        Arguments.of(
            "refuses changing the CA annotation",
            (UnaryOperator<Pod>)
                p ->
                    new PodBuilder(p)
                        .editMetadata()
                        .addToAnnotations("capgate.dev/ca", "capgate-ca-bcdfghjklm")
                        .endMetadata()
                        .build(),
            "annotation capgate.dev/ca cannot be changed on a running pod"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedUpdates")
  void refusesUpdates(String rule, UnaryOperator<Pod> change, String message) {
    Pod stored = injectedPod();
    Pod before = stack.client.pods().inNamespace(ns).withName(stored.getMetadata().getName()).get();
    assertThatThrownBy(
            () ->
                stack
                    .client
                    .pods()
                    .inNamespace(ns)
                    .withName(stored.getMetadata().getName())
                    .edit(change))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("capgate refused pod " + stored.getMetadata().getName())
        .hasMessageContaining(message);
    Pod after = stack.client.pods().inNamespace(ns).withName(stored.getMetadata().getName()).get();
    assertThat(after.getMetadata().getResourceVersion())
        .isEqualTo(before.getMetadata().getResourceVersion());
  }

  @Test
  void updatesThatLeaveCapgateAloneGoThrough() {
    Pod stored = injectedPod();
    Pod updated =
        stack
            .client
            .pods()
            .inNamespace(ns)
            .withName(stored.getMetadata().getName())
            .edit(
                p ->
                    new PodBuilder(p)
                        .editMetadata()
                        .addToLabels("team", "payments")
                        .addToAnnotations("note", "reviewed")
                        .endMetadata()
                        .editSpec()
                        .editFirstContainer()
                        .withImage("registry.example/agent:1.1")
                        .endContainer()
                        .endSpec()
                        .build());
    assertThat(updated.getMetadata().getLabels()).containsEntry("team", "payments");
    assertThat(updated.getSpec().getContainers().getFirst().getImage())
        .isEqualTo("registry.example/agent:1.1");
    assertThat(updated.getSpec().getInitContainers().get(1).getImage())
        .isEqualTo(OperatorUnderTest.SIDECAR_IMAGE);
  }

  /** A pod that was not injected cannot join a session later: by the webhook, or by the policy. */
  @Test
  void aRunningPodCannotOptInOrPassForASessionsPod() {
    Pod plain =
        stack.createPod(
            ns,
            """
        apiVersion: v1
        kind: Pod
        metadata: {name: plain-%d}
        spec:
          containers: [{name: app, image: registry.example/app:1}]
        """
                .formatted(PODS.incrementAndGet()));
    var pods = stack.client.pods().inNamespace(ns).withName(plain.getMetadata().getName());
    // With the opt-in label the webhook sees the update.
    assertThatThrownBy(
            () ->
                pods.edit(
                    p ->
                        new PodBuilder(p)
                            .editMetadata()
                            .addToLabels("capgate.dev/inject", "true")
                            .addToLabels("capgate.dev/session", "s")
                            .endMetadata()
                            .build()))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("label capgate.dev/inject cannot be added to a running pod");
    // Without it the webhook does not, the API server's policy does.
    assertThatThrownBy(
            () ->
                pods.edit(
                    p ->
                        new PodBuilder(p)
                            .editMetadata()
                            .addToLabels("capgate.dev/session", "s")
                            .addToAnnotations("capgate.dev/status", "injected")
                            .endMetadata()
                            .build()))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("only pods the capgate webhook admits may carry them");
    // Nor can a pod be created looking like one (forged markers, no opt-in label).
    assertThatThrownBy(
            () ->
                stack.createPod(
                    ns,
                    """
        apiVersion: v1
        kind: Pod
        metadata:
          name: forged
          labels: {capgate.dev/session: s}
          annotations: {capgate.dev/status: injected}
        spec:
          containers: [{name: app, image: registry.example/app:1}]
        """))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("only pods the capgate webhook admits may carry them");
  }

  /**
   * Bypass 1: root agents are stored without SETUID/SETGID and with no_new_privs; setuid(1447)
   * cannot work.
   */
  @Test
  void rootAgentWithoutSetuidDropGetsItDropped() {
    Pod stored =
        stack.createPod(
            ns,
            OperatorUnderTest.agentPod("root-" + PODS.incrementAndGet(), "s", "default")
                .replace("securityContext: {runAsUser: 1000}", "securityContext: {runAsUser: 0}"));
    SecurityContext sc = stored.getSpec().getContainers().getFirst().getSecurityContext();
    assertThat(stored.getSpec().getSecurityContext().getRunAsUser()).isZero();
    assertThat(sc.getCapabilities().getDrop())
        .containsExactly("SETUID", "SETGID", "NET_ADMIN", "NET_RAW");
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
  }

  /**
   * Bypass 2: swapping a running agent's image (to one whose USER is 1447) is allowed, and cannot
   * matter: the uid is explicit, and the API server itself refuses to change a running pod's
   * securityContext.
   */
  @Test
  void anImageSwapKeepsTheExplicitUidAndTheUidCannotBeChanged() {
    Pod stored = injectedPod();
    var pods = stack.client.pods().inNamespace(ns).withName(stored.getMetadata().getName());
    Pod swapped =
        pods.edit(
            p ->
                new PodBuilder(p)
                    .editSpec()
                    .editFirstContainer()
                    .withImage("registry.example/user-1447:1")
                    .endContainer()
                    .endSpec()
                    .build());
    assertThat(swapped.getSpec().getContainers().getFirst().getImage())
        .isEqualTo("registry.example/user-1447:1");
    assertThat(swapped.getSpec().getSecurityContext().getRunAsUser()).isEqualTo(1000L);
    assertThatThrownBy(
            () ->
                pods.edit(
                    p ->
                        new PodBuilder(p)
                            .editSpec()
                            .editFirstContainer()
                            .editSecurityContext()
                            .withRunAsUser(1447L)
                            .withAllowPrivilegeEscalation(true)
                            .endSecurityContext()
                            .endContainer()
                            .endSpec()
                            .build()))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("pod updates may not change fields other than");
    assertThatThrownBy(
            () ->
                pods.edit(
                    p ->
                        new PodBuilder(p)
                            .editSpec()
                            .editSecurityContext()
                            .withRunAsUser(1447L)
                            .endSecurityContext()
                            .endSpec()
                            .build()))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("pod updates may not change fields other than");
  }

  /** pods/status keeps the labels it is sent, and the webhook never sees it: the policy refuses. */
  @Test
  void aStatusUpdateCannotMoveThePodToAnotherSession() {
    Pod stored = injectedPod();
    var pods = stack.client.pods().inNamespace(ns).withName(stored.getMetadata().getName());
    assertThatThrownBy(
            () ->
                pods.editStatus(
                    p ->
                        new PodBuilder(p)
                            .editMetadata()
                            .addToLabels("capgate.dev/session", "other")
                            .endMetadata()
                            .build()))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining(
            "the label capgate.dev/session of a pod cannot be added, changed or removed");
    assertThatThrownBy(
            () ->
                pods.editStatus(
                    p ->
                        new PodBuilder(p)
                            .editMetadata()
                            .removeFromAnnotations("capgate.dev/ca")
                            .endMetadata()
                            .build()))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining(
            "the annotation capgate.dev/ca of a pod cannot be added, changed or removed");
    assertThat(pods.get().getMetadata().getLabels()).containsEntry("capgate.dev/session", "s");
    // A status update that leaves them alone goes through.
    pods.editStatus(
        p -> new PodBuilder(p).editMetadata().addToLabels("phase-note", "x").endMetadata().build());
  }

  /** A binding copies its annotations onto the pod: none of capgate's, by either endpoint. */
  @Test
  void aBindingCannotBringCapgateAnnotations() {
    Pod stored = injectedPod();
    String name = stored.getMetadata().getName();
    Binding binding =
        new BindingBuilder()
            .withNewMetadata()
            .withName(name)
            .addToAnnotations("capgate.dev/ca", "capgate-ca-bcdfghjklm")
            .endMetadata()
            .withNewTarget()
            .withApiVersion("v1")
            .withKind("Node")
            .withName("node-1")
            .endTarget()
            .build();
    assertThatThrownBy(() -> stack.client.bindings().inNamespace(ns).resource(binding).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("a binding cannot set capgate.dev/ annotations on a pod");
    ProcessResult subresource =
        stack.kube.kubectlWithInput(
            OperatorUnderTest.SERIALIZATION.asJson(binding),
            "create",
            "--raw",
            "/api/v1/namespaces/" + ns + "/pods/" + name + "/binding",
            "-f",
            "-");
    assertThat(subresource.exitCode()).isNotZero();
    assertThat(subresource.stderr())
        .contains("a binding cannot set capgate.dev/ annotations on a pod");
    assertThat(
            stack.client.pods().inNamespace(ns).withName(name).get().getMetadata().getAnnotations())
        .containsEntry(
            "capgate.dev/ca", stored.getMetadata().getAnnotations().get("capgate.dev/ca"));
  }

  /**
   * kubectl debug: the webhook's patch of the pods/ephemeralcontainers update hardens the new
   * container.
   */
  @Test
  void aRootEphemeralContainerIsStoredHardened() {
    Pod stored = injectedPod();
    Pod debugged =
        stack.addEphemeralContainer(
            stored,
            new EphemeralContainerBuilder()
                .withName("debugger")
                .withImage("busybox")
                .withTargetContainerName("agent")
                .withNewSecurityContext()
                .withRunAsUser(0L)
                .endSecurityContext()
                .build());
    SecurityContext sc =
        debugged.getSpec().getEphemeralContainers().getFirst().getSecurityContext();
    assertThat(sc.getRunAsUser()).isZero();
    assertThat(sc.getCapabilities().getDrop())
        .containsExactly("SETUID", "SETGID", "NET_ADMIN", "NET_RAW");
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
  }

  @Test
  void kubectlDebugIsHardenedOrRefused() {
    Pod stored = injectedPod();
    String name = stored.getMetadata().getName();
    ProcessResult restricted =
        stack.kube.kubectl(
            "debug",
            "-n",
            ns,
            name,
            "--image=busybox",
            "--target=agent",
            "--container=dbg-restricted",
            "--profile=restricted",
            "--",
            "sleep",
            "1");
    assertThat(restricted.exitCode()).as(restricted.stderr()).isZero();
    SecurityContext sc =
        stack
            .client
            .pods()
            .inNamespace(ns)
            .withName(name)
            .get()
            .getSpec()
            .getEphemeralContainers()
            .stream()
            .filter(e -> e.getName().equals("dbg-restricted"))
            .findFirst()
            .orElseThrow()
            .getSecurityContext();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).contains("ALL");
    ProcessResult sysadmin =
        stack.kube.kubectl(
            "debug",
            "-n",
            ns,
            name,
            "--image=busybox",
            "--target=agent",
            "--container=dbg-sysadmin",
            "--profile=sysadmin",
            "--",
            "sleep",
            "1");
    assertThat(sysadmin.exitCode()).isNotZero();
    assertThat(sysadmin.stderr()).contains("ephemeral container \"dbg-sysadmin\" is privileged");
  }

  @Test
  void anEphemeralContainerAddingSysPtraceIsRefused() {
    Pod stored = injectedPod();
    assertThatThrownBy(
            () ->
                stack.addEphemeralContainer(
                    stored,
                    new EphemeralContainerBuilder()
                        .withName("tracer")
                        .withImage("busybox")
                        .withTargetContainerName("agent")
                        .withNewSecurityContext()
                        .withRunAsUser(0L)
                        .withNewCapabilities()
                        .withAdd("SYS_PTRACE")
                        .endCapabilities()
                        .endSecurityContext()
                        .build()))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("ephemeral container \"tracer\" adds capability SYS_PTRACE");
  }

  /**
   * Bypass 3: what the webhook injects, as a dry run returns it, with capgate-proxy made to sleep:
   * refused, and nothing stored.
   */
  @Test
  void aForgedCapgateProxyRunningSleepIsRefused() {
    Pod template =
        OperatorUnderTest.SERIALIZATION.unmarshal(
            OperatorUnderTest.agentPod("forged-" + PODS.incrementAndGet(), "s", "default"),
            Pod.class);
    template.getMetadata().setNamespace(ns);
    Pod injected = stack.client.resource(template).dryRun().create();
    Pod forged =
        new PodBuilder(injected)
            .editMetadata()
            .withUid(null)
            .withResourceVersion(null)
            .withCreationTimestamp(null)
            .withManagedFields(List.of())
            .endMetadata()
            .withStatus(null)
            .editSpec()
            .editMatchingInitContainer(c -> c.getName().equals("capgate-proxy"))
            .withCommand("sleep", "infinity")
            .endInitContainer()
            .endSpec()
            .build();
    assertThatThrownBy(() -> stack.client.resource(forged).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining(
            "is marked capgate.dev/status=injected but differs from what the capgate webhook injects"
                + " (capgate-proxy.command is not set by capgate)");
    // The same pod unforged names a CA that was never stored (dry run): refused too.
    Pod unforged =
        new PodBuilder(forged)
            .editSpec()
            .editMatchingInitContainer(c -> c.getName().equals("capgate-proxy"))
            .withCommand(List.of())
            .endInitContainer()
            .endSpec()
            .build();
    assertThatThrownBy(() -> stack.client.resource(unforged).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining(
            "(its CA Secret "
                + injected.getMetadata().getAnnotations().get("capgate.dev/ca")
                + " does not exist)");
    assertThat(stack.client.pods().inNamespace(ns).withName(template.getMetadata().getName()).get())
        .isNull();
  }

  /** A copy of a running injected pod would share its CA key: refused once the CA is the pod's. */
  @Test
  void claimsACaOfAnotherPodIsRefused() {
    Pod first = injectedPod();
    String caName = first.getMetadata().getAnnotations().get("capgate.dev/ca");
    await("CA handed over to the pod")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(
                        stack
                            .client
                            .secrets()
                            .inNamespace(ns)
                            .withName(caName)
                            .get()
                            .getMetadata()
                            .getOwnerReferences())
                    .extracting(o -> o.getKind())
                    .containsExactly("Pod"));
    Pod copy =
        new PodBuilder(first)
            .editMetadata()
            .withName(first.getMetadata().getName() + "-copy")
            .withUid(null)
            .withResourceVersion(null)
            .withCreationTimestamp(null)
            .withManagedFields(List.of())
            .endMetadata()
            .withStatus(null)
            .build();
    assertThatThrownBy(() -> stack.client.resource(copy).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("(its CA " + caName + " belongs to another pod)");
  }

  private static final java.util.concurrent.atomic.AtomicInteger PODS =
      new java.util.concurrent.atomic.AtomicInteger();

  private static Pod injectedPod() {
    return stack.createPod(
        ns, OperatorUnderTest.agentPod("updated-" + PODS.incrementAndGet(), "s", "default"));
  }
}
