package dev.capgate.operator.injection;

import static dev.capgate.operator.injection.InjectionFixtures.PLAN;
import static dev.capgate.operator.injection.InjectionFixtures.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Invariant 7, as a table: each pod shape is refused with a message that says what and why. */
class AdmissionHardeningTest {
  private final PodInjector injector = new PodInjector(SETTINGS);

  static Stream<Arguments> refusedPods() {
    return Stream.of(
        refused("rejects hostNetwork", p -> edit(p).editSpec().withHostNetwork(true).endSpec().build(),
            "spec.hostNetwork is true"),
        refused("rejects hostPID", p -> edit(p).editSpec().withHostPID(true).endSpec().build(),
            "spec.hostPID is true"),
        refused("rejects shareProcessNamespace", p -> edit(p).editSpec().withShareProcessNamespace(true).endSpec().build(),
            "spec.shareProcessNamespace is true"),
        refused("rejects privileged agent containers", p -> withAgentSecurity(p, new SecurityContextBuilder().withPrivileged(true)),
            "container \"agent\" is privileged"),
        refused("rejects agent containers adding NET_ADMIN", p -> withAgentCaps(p, "NET_ADMIN"),
            "container \"agent\" adds capability NET_ADMIN"),
        refused("rejects agent containers adding NET_RAW", p -> withAgentCaps(p, "NET_RAW"),
            "container \"agent\" adds capability NET_RAW"),
        refused("rejects agent containers adding SYS_ADMIN", p -> withAgentCaps(p, "SYS_ADMIN"),
            "container \"agent\" adds capability SYS_ADMIN"),
        refused("rejects agent containers adding ALL", p -> withAgentCaps(p, "ALL"),
            "container \"agent\" adds capability ALL"),
        refused("rejects capabilities spelled CAP_net_admin", p -> withAgentCaps(p, "CAP_net_admin"),
            "adds capability NET_ADMIN"),
        refused("rejects agent containers running as the sidecar's uid",
            p -> withAgentSecurity(p, new SecurityContextBuilder().withRunAsUser(1337L)),
            "container \"agent\" runs as uid 1337, the capgate sidecar's uid"),
        refused("rejects a pod-level runAsUser of the sidecar's uid",
            p -> edit(p).editSpec().withSecurityContext(new PodSecurityContextBuilder().withRunAsUser(1337L).build()).endSpec().build(),
            "container \"agent\" runs as uid 1337 (from the pod's securityContext)"),
        refused("rejects agent containers mounting a capgate-ca secret",
            p -> withAgentVolume(p, new VolumeBuilder().withName("stolen").withNewSecret().withSecretName("capgate-ca-abcdefghij").endSecret().build()),
            "mounts volume \"stolen\", which holds the pod CA key"),
        refused("rejects a capgate-ca secret in a projected volume",
            p -> withAgentVolume(p, new VolumeBuilder().withName("stolen").withNewProjected().addNewSource().withNewSecret()
                .withName("capgate-ca-abcdefghij").endSecret().endSource().endProjected().build()),
            "which holds the pod CA key"),
        refused("rejects agent containers mounting the injected CA volume",
            p -> withAgentMount(p, PodInjector.CA_VOLUME), "mounts volume \"capgate-ca\", which holds the pod CA key"),
        refused("rejects agent containers mounting the sidecar's token",
            p -> withAgentMount(p, PodInjector.TOKEN_VOLUME), "which holds a service-account token"),
        refused("rejects agent containers mounting the sidecar's Kubernetes API token",
            p -> withAgentMount(p, PodInjector.KUBE_API_VOLUME), "mounts volume \"capgate-kube-api\", which holds a service-account token"),
        refused("rejects agent containers mounting their own service-account token",
            p -> withAgentVolume(p, new VolumeBuilder().withName("my-token").withNewProjected().addNewSource()
                .withNewServiceAccountToken().withPath("token").endServiceAccountToken().endSource().endProjected().build()),
            "mounts volume \"my-token\", which holds a service-account token"),
        refused("rejects hostPath volumes in agent containers",
            p -> withAgentVolume(p, new VolumeBuilder().withName("node").withNewHostPath().withPath("/").endHostPath().build()),
            "mounts volume \"node\", a hostPath volume"),
        refused("rejects privileged agent init containers",
            p -> edit(p).editSpec().addNewInitContainer().withName("setup").withImage("busybox")
                .withSecurityContext(new SecurityContextBuilder().withPrivileged(true).build()).endInitContainer().endSpec().build(),
            "container \"setup\" is privileged"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedPods")
  void refuses(String rule, UnaryOperator<Pod> shape, String message) {
    Pod injected = injector.inject(shape.apply(plainPod()), PLAN);
    assertThat(AdmissionHardening.violations(injected)).anySatisfy(v -> assertThat(v).contains(message));
  }

  @Test
  void acceptsAPlainPod() {
    assertThat(AdmissionHardening.violations(injector.inject(plainPod(), PLAN))).isEmpty();
  }

  @Test
  void acceptsTheGoldenPods() {
    for (String name : List.of("pod", "pod-with-init-containers", "pod-with-java-tool-options", "pod-generate-name",
        "pod-with-placeholders")) {
      Pod injected = InjectionFixtures.pod(InjectionFixtures.resource("/golden/" + name + ".injected.yaml"));
      assertThat(AdmissionHardening.violations(injected)).as(name).isEmpty();
    }
  }

  @Test
  void rejectsAPodClaimingInjectedWithoutTheSidecar() {
    Pod forged = edit(plainPod()).editMetadata().addToAnnotations(PodMarkers.STATUS, PodMarkers.STATUS_INJECTED)
        .endMetadata().build();
    assertThat(AdmissionHardening.violations(forged))
        .anySatisfy(v -> assertThat(v).contains("capgate containers are missing or altered"));
  }

  @Test
  void rejectsReservedNamesBeforeInjection() {
    Pod pod = edit(plainPod()).editSpec().addNewContainer().withName("capgate-proxy").withImage("evil").endContainer()
        .addNewVolume().withName("capgate-ca").withNewEmptyDir().endEmptyDir().endVolume().endSpec().build();
    assertThat(AdmissionHardening.reservedNameViolations(pod)).containsExactly(
        "container name \"capgate-proxy\" is reserved for the capgate sidecar",
        "volume name \"capgate-ca\" is reserved for the capgate sidecar");
  }

  @Test
  void rejectsEphemeralContainersTargetingTheSidecar() {
    Pod injected = injector.inject(plainPod(), PLAN);
    Pod debugged = edit(injected).editSpec().addToEphemeralContainers(new EphemeralContainerBuilder()
        .withName("debugger").withImage("busybox").withTargetContainerName("capgate-proxy").build()).endSpec().build();
    assertThat(AdmissionHardening.ephemeralViolations(debugged))
        .containsExactly("ephemeral container \"debugger\" targets \"capgate-proxy\": it would share the sidecar's processes and read its CA key");
  }

  @Test
  void rejectsEphemeralContainersMountingTheCaKey() {
    Pod injected = injector.inject(plainPod(), PLAN);
    Pod debugged = edit(injected).editSpec().addToEphemeralContainers(new EphemeralContainerBuilder()
        .withName("debugger").withImage("busybox")
        .withVolumeMounts(new VolumeMountBuilder().withName(PodInjector.CA_VOLUME).withMountPath("/ca").build()).build())
        .endSpec().build();
    assertThat(AdmissionHardening.ephemeralViolations(debugged))
        .anySatisfy(v -> assertThat(v).startsWith("ephemeral container \"debugger\" mounts volume \"capgate-ca\""));
  }

  @Test
  void acceptsAHarmlessEphemeralContainer() {
    Pod injected = injector.inject(plainPod(), PLAN);
    Pod debugged = edit(injected).editSpec().addToEphemeralContainers(new EphemeralContainerBuilder()
        .withName("debugger").withImage("busybox").withTargetContainerName("agent").build()).endSpec().build();
    assertThat(AdmissionHardening.ephemeralViolations(debugged)).isEmpty();
  }

  static Stream<Arguments> refusedUpdates() {
    return Stream.of(
        refused("refuses changing the sidecar's image",
            p -> edit(p).editSpec().editMatchingInitContainer(c -> c.getName().equals("capgate-proxy"))
                .withImage("evil/proxy:allow-all").endInitContainer().endSpec().build(),
            "the image of container \"capgate-proxy\" cannot be changed (capgate/sidecar:test -> evil/proxy:allow-all)"),
        refused("refuses changing the init container's image",
            p -> edit(p).editSpec().editMatchingInitContainer(c -> c.getName().equals("capgate-init"))
                .withImage("evil/init:no-rules").endInitContainer().endSpec().build(),
            "the image of container \"capgate-init\" cannot be changed"),
        refused("refuses changing anything else of the sidecar",
            p -> edit(p).editSpec().editMatchingInitContainer(c -> c.getName().equals("capgate-proxy"))
                .withArgs("proxy", "--allow-all").endInitContainer().endSpec().build(),
            "container \"capgate-proxy\" of an injected pod cannot be changed"),
        refused("refuses removing the sidecar",
            p -> edit(p).editSpec().removeMatchingFromInitContainers(c -> c.getName().equals("capgate-proxy")).endSpec().build(),
            "container \"capgate-proxy\" cannot be removed from an injected pod"),
        refused("refuses removing the sidecar's CA volume",
            p -> edit(p).editSpec().removeMatchingFromVolumes(v -> v.getName().equals("capgate-ca")).endSpec().build(),
            "volume \"capgate-ca\" of an injected pod cannot be changed or removed"),
        refused("refuses changing the session label",
            p -> edit(p).editMetadata().addToLabels(PodMarkers.SESSION, "another-session").endMetadata().build(),
            "label capgate.dev/session cannot be changed on a running pod (capgate finds a session's pods by it"),
        refused("refuses removing the session label",
            p -> edit(p).editMetadata().removeFromLabels(PodMarkers.SESSION).endMetadata().build(),
            "label capgate.dev/session cannot be removed from a running pod"),
        refused("refuses removing the opt-in label",
            p -> edit(p).editMetadata().removeFromLabels(PodMarkers.INJECT).endMetadata().build(),
            "label capgate.dev/inject cannot be removed from a running pod (without it capgate no longer sees"),
        refused("refuses changing the CA annotation",
            p -> edit(p).editMetadata().addToAnnotations(PodMarkers.CA, "capgate-ca-other00000").endMetadata().build(),
            "annotation capgate.dev/ca cannot be changed on a running pod"),
        refused("refuses removing the status annotation",
            p -> edit(p).editMetadata().removeFromAnnotations(PodMarkers.STATUS).endMetadata().build(),
            "annotation capgate.dev/status cannot be removed from a running pod"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedUpdates")
  void refusesUpdates(String rule, UnaryOperator<Pod> change, String message) {
    Pod injected = injector.inject(plainPod(), PLAN);
    assertThat(AdmissionHardening.updateViolations(injected, change.apply(injected)))
        .anySatisfy(v -> assertThat(v).contains(message));
  }

  @Test
  void refusesOptingInARunningPod() {
    Pod plain = new PodBuilder().withNewMetadata().withName("running").endMetadata().withNewSpec()
        .addNewContainer().withName("app").withImage("app:1").endContainer().endSpec().build();
    Pod optedIn = edit(plain).editMetadata().addToLabels(PodMarkers.INJECT, "true").addToLabels(PodMarkers.SESSION, "s")
        .endMetadata().build();
    assertThat(AdmissionHardening.updateViolations(plain, optedIn)).containsExactly(
        "label capgate.dev/inject cannot be added to a running pod (a pod opts in to capgate when it is created:"
            + " recreate it with the label capgate.dev/inject=true)",
        "label capgate.dev/session cannot be added to a running pod (a pod opts in to capgate when it is created:"
            + " recreate it with the label capgate.dev/inject=true)");
  }

  @Test
  void acceptsUpdatesThatLeaveCapgateAlone() {
    Pod injected = injector.inject(plainPod(), PLAN);
    Pod updated = edit(injected).editMetadata().addToLabels("team", "payments").addToAnnotations("note", "x").endMetadata()
        .editSpec().editFirstContainer().withImage("registry.example/agent:1.1").endContainer()
        .withActiveDeadlineSeconds(600L).endSpec().build();
    assertThat(AdmissionHardening.updateViolations(injected, updated)).isEmpty();
  }

  private static Arguments refused(String rule, UnaryOperator<Pod> shape, String message) {
    return Arguments.of(rule, shape, message);
  }

  static Pod plainPod() {
    return InjectionFixtures.pod(InjectionFixtures.resource("/golden/pod.yaml"));
  }

  private static PodBuilder edit(Pod pod) {
    return new PodBuilder(pod);
  }

  private static Pod withAgentSecurity(Pod pod, SecurityContextBuilder sc) {
    return edit(pod).editSpec().editFirstContainer().withSecurityContext(sc.build()).endContainer().endSpec().build();
  }

  private static Pod withAgentCaps(Pod pod, String cap) {
    return withAgentSecurity(pod, new SecurityContextBuilder().withCapabilities(new Capabilities(List.of(cap), List.of())));
  }

  private static Pod withAgentVolume(Pod pod, io.fabric8.kubernetes.api.model.Volume volume) {
    return edit(pod).editSpec().addToVolumes(volume).editFirstContainer()
        .addToVolumeMounts(new VolumeMountBuilder().withName(volume.getName()).withMountPath("/x").build())
        .endContainer().endSpec().build();
  }

  private static Pod withAgentMount(Pod pod, String volumeName) {
    return edit(pod).editSpec().editFirstContainer()
        .addToVolumeMounts(new VolumeMountBuilder().withName(volumeName).withMountPath("/x").build())
        .endContainer().endSpec().build();
  }
}
