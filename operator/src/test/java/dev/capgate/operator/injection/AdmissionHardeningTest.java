package dev.capgate.operator.injection;

import static dev.capgate.operator.injection.InjectionFixtures.PLAN;
import static dev.capgate.operator.injection.InjectionFixtures.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.operator.ca.MintedCa;
import dev.capgate.operator.ca.PodCaMinter;
import dev.capgate.operator.ca.PodCaObjects;
import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
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
  private final PodInjector injector = new PodInjector(SETTINGS, InjectionFixtures.TRUST_ROOTS);

  static Stream<Arguments> refusedPods() {
    return Stream.of(
        refused(
            "rejects hostNetwork",
            p -> edit(p).editSpec().withHostNetwork(true).endSpec().build(),
            "spec.hostNetwork is true"),
        refused(
            "rejects hostPID",
            p -> edit(p).editSpec().withHostPID(true).endSpec().build(),
            "spec.hostPID is true"),
        refused(
            "rejects shareProcessNamespace",
            p -> edit(p).editSpec().withShareProcessNamespace(true).endSpec().build(),
            "spec.shareProcessNamespace is true"),
        refused(
            "rejects privileged agent containers",
            p -> withAgentSecurity(p, new SecurityContextBuilder().withPrivileged(true)),
            "container \"agent\" is privileged"),
        refused(
            "rejects agent containers adding NET_ADMIN",
            p -> withAgentCaps(p, "NET_ADMIN"),
            "container \"agent\" adds capability NET_ADMIN"),
        refused(
            "rejects agent containers adding NET_RAW",
            p -> withAgentCaps(p, "NET_RAW"),
            "container \"agent\" adds capability NET_RAW"),
        refused(
            "rejects agent containers adding SYS_ADMIN",
            p -> withAgentCaps(p, "SYS_ADMIN"),
            "container \"agent\" adds capability SYS_ADMIN"),
        refused(
            "rejects agent containers adding ALL",
            p -> withAgentCaps(p, "ALL"),
            "container \"agent\" adds capability ALL"),
        refused(
            "rejects capabilities spelled CAP_net_admin",
            p -> withAgentCaps(p, "CAP_net_admin"),
            "adds capability NET_ADMIN"),
        refused(
            "rejects agent containers running as the sidecar's uid",
            p -> withAgentSecurity(p, new SecurityContextBuilder().withRunAsUser(1447L)),
            "container \"agent\" runs as uid 1447, the capgate sidecar's uid"),
        refused(
            "rejects a pod-level runAsUser of the sidecar's uid",
            p ->
                withAgentSecurity(
                    edit(p)
                        .editSpec()
                        .withSecurityContext(
                            new PodSecurityContextBuilder().withRunAsUser(1447L).build())
                        .endSpec()
                        .build(),
                    new SecurityContextBuilder()),
            "container \"agent\" runs as uid 1447 (from the pod's securityContext)"),
        refused(
            "rejects agent containers mounting a capgate-ca secret",
            p ->
                withAgentVolume(
                    p,
                    new VolumeBuilder()
                        .withName("stolen")
                        .withNewSecret()
                        .withSecretName("capgate-ca-abcdefghij")
                        .endSecret()
                        .build()),
            "mounts volume \"stolen\", which holds the pod CA key"),
        refused(
            "rejects a capgate-ca secret in a projected volume",
            p ->
                withAgentVolume(
                    p,
                    new VolumeBuilder()
                        .withName("stolen")
                        .withNewProjected()
                        .addNewSource()
                        .withNewSecret()
                        .withName("capgate-ca-abcdefghij")
                        .endSecret()
                        .endSource()
                        .endProjected()
                        .build()),
            "which holds the pod CA key"),
        refused(
            "rejects agent containers mounting the injected CA volume",
            p -> withAgentMount(p, PodInjector.CA_VOLUME),
            "mounts volume \"capgate-ca\", which holds the pod CA key"),
        refused(
            "rejects agent containers mounting the sidecar's token",
            p -> withAgentMount(p, PodInjector.TOKEN_VOLUME),
            "which holds a service-account token"),
        refused(
            "rejects agent containers mounting the sidecar's Kubernetes API token",
            p -> withAgentMount(p, PodInjector.KUBE_API_VOLUME),
            "mounts volume \"capgate-kube-api\", which holds a service-account token"),
        refused(
            "rejects agent containers mounting their own service-account token",
            p ->
                withAgentVolume(
                    p,
                    new VolumeBuilder()
                        .withName("my-token")
                        .withNewProjected()
                        .addNewSource()
                        .withNewServiceAccountToken()
                        .withPath("token")
                        .endServiceAccountToken()
                        .endSource()
                        .endProjected()
                        .build()),
            "mounts volume \"my-token\", which holds a service-account token"),
        refused(
            "rejects hostPath volumes in agent containers",
            p ->
                withAgentVolume(
                    p,
                    new VolumeBuilder()
                        .withName("node")
                        .withNewHostPath()
                        .withPath("/")
                        .endHostPath()
                        .build()),
            "mounts volume \"node\", a hostPath volume"),
        refused(
            "rejects privileged agent init containers",
            p ->
                edit(p)
                    .editSpec()
                    .addNewInitContainer()
                    .withName("setup")
                    .withImage("busybox")
                    .withSecurityContext(new SecurityContextBuilder().withPrivileged(true).build())
                    .endInitContainer()
                    .endSpec()
                    .build(),
            "container \"setup\" is privileged"),
        // Bypass 2: the uid an image's USER gives is invisible here and changes with the image.
        refused(
            "image USER cannot matter: runAsUser required",
            p -> withAgentSecurity(p, new SecurityContextBuilder()),
            "container \"agent\" sets no runAsUser: set securityContext.runAsUser (any uid but 1447; 0 is allowed) on the"
                + " container or the pod"),
        refused(
            "an init container of the agent's without runAsUser → refused",
            p ->
                edit(p)
                    .editSpec()
                    .addNewInitContainer()
                    .withName("setup")
                    .withImage("python:3")
                    .endInitContainer()
                    .endSpec()
                    .build(),
            "container \"setup\" sets no runAsUser"),
        refused(
            "adds SYS_PTRACE → refused",
            p -> withAgentCaps(p, "SYS_PTRACE"),
            "container \"agent\" adds capability SYS_PTRACE, which would let it change its uid, the pod's network rules or the"
                + " node: agent containers may add only AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD,"
                + " NET_BIND_SERVICE, SETFCAP, SETPCAP, SYS_CHROOT"),
        refused(
            "adds SETUID → refused",
            p -> withAgentCaps(p, "SETUID"),
            "container \"agent\" adds capability SETUID"),
        refused(
            "adds SETGID → refused",
            p -> withAgentCaps(p, "cap_setgid"),
            "container \"agent\" adds capability SETGID"),
        refused(
            "adds BPF → refused",
            p -> withAgentCaps(p, "BPF"),
            "container \"agent\" adds capability BPF"),
        refused(
            "allowPrivilegeEscalation true → refused",
            p ->
                withAgentSecurity(
                    p,
                    new SecurityContextBuilder()
                        .withRunAsUser(1000L)
                        .withAllowPrivilegeEscalation(true)),
            "container \"agent\" sets allowPrivilegeEscalation: true"),
        refused(
            "procMount Unmasked → refused",
            p ->
                withAgentSecurity(
                    p, new SecurityContextBuilder().withRunAsUser(1000L).withProcMount("Unmasked")),
            "container \"agent\" sets procMount: Unmasked"),
        refused(
            "runAsGroup 1447 → refused",
            p ->
                withAgentSecurity(
                    p, new SecurityContextBuilder().withRunAsUser(1000L).withRunAsGroup(1447L)),
            "container \"agent\" runs as group 1447"),
        refused(
            "fsGroup 1447 → refused",
            p ->
                edit(p)
                    .editSpec()
                    .withSecurityContext(new PodSecurityContextBuilder().withFsGroup(1447L).build())
                    .endSpec()
                    .build(),
            "spec.securityContext.fsGroup is 1447"),
        refused(
            "hostIPC → refused",
            p -> edit(p).editSpec().withHostIPC(true).endSpec().build(),
            "spec.hostIPC is true"),
        refused(
            "hostPort → refused",
            p ->
                edit(p)
                    .editSpec()
                    .editFirstContainer()
                    .addNewPort()
                    .withContainerPort(8080)
                    .withHostPort(8080)
                    .endPort()
                    .endContainer()
                    .endSpec()
                    .build(),
            "container \"agent\" sets hostPort 8080"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedPods")
  void refuses(String rule, UnaryOperator<Pod> shape, String message) {
    Pod injected = injector.inject(shape.apply(plainPod()), PLAN);
    assertThat(AdmissionHardening.violations(injected))
        .anySatisfy(v -> assertThat(v).contains(message));
  }

  @Test
  void acceptsAPlainPod() {
    assertThat(AdmissionHardening.violations(injector.inject(plainPod(), PLAN))).isEmpty();
  }

  @Test
  void acceptsTheGoldenPods() {
    for (String name :
        List.of(
            "pod",
            "pod-with-init-containers",
            "pod-with-java-tool-options",
            "pod-generate-name",
            "pod-with-placeholders")) {
      Pod injected =
          InjectionFixtures.pod(InjectionFixtures.resource("/golden/" + name + ".injected.yaml"));
      assertThat(AdmissionHardening.violations(injected)).as(name).isEmpty();
    }
  }

  /** Bypass 1: root stays possible, becoming uid 1447 does not (no CAP_SETUID, no_new_privs). */
  @Test
  void rootAgentWithoutSetuidDropGetsItDropped() {
    Pod root = withAgentSecurity(plainPod(), new SecurityContextBuilder().withRunAsUser(0L));
    Pod injected = injector.inject(root, PLAN);
    var sc = injected.getSpec().getContainers().getFirst().getSecurityContext();
    assertThat(sc.getRunAsUser()).isZero();
    assertThat(sc.getCapabilities().getDrop())
        .containsExactly("SETUID", "SETGID", "NET_ADMIN", "NET_RAW");
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(AdmissionHardening.violations(injected)).isEmpty();
  }

  @Test
  void theAgentsOwnDropsAndAddsAreKeptAndNotDoubled() {
    Pod pod =
        withAgentSecurity(
            plainPod(),
            new SecurityContextBuilder()
                .withRunAsUser(0L)
                .withCapabilities(
                    new Capabilities(
                        List.of("NET_BIND_SERVICE", "cap_chown"), List.of("cap_setuid", "MKNOD"))));
    var sc = injector.inject(pod, PLAN).getSpec().getContainers().getFirst().getSecurityContext();
    assertThat(sc.getCapabilities().getAdd()).containsExactly("NET_BIND_SERVICE", "cap_chown");
    assertThat(sc.getCapabilities().getDrop())
        .containsExactly("cap_setuid", "MKNOD", "SETGID", "NET_ADMIN", "NET_RAW");
    assertThat(AdmissionHardening.violations(injector.inject(pod, PLAN))).isEmpty();
  }

  @Test
  void aPodLevelRunAsUserCoversEveryContainer() {
    Pod pod =
        edit(withAgentSecurity(plainPod(), new SecurityContextBuilder()))
            .editSpec()
            .withSecurityContext(new PodSecurityContextBuilder().withRunAsUser(0L).build())
            .addNewInitContainer()
            .withName("setup")
            .withImage("python:3")
            .endInitContainer()
            .endSpec()
            .build();
    assertThat(AdmissionHardening.violations(injector.inject(pod, PLAN))).isEmpty();
  }

  @Test
  void aContainerAddedByAnotherWebhookIsHardenedOnReinvocation() {
    Pod injected = injector.inject(plainPod(), PLAN);
    Pod withLate =
        edit(injected)
            .editSpec()
            .addNewContainer()
            .withName("late")
            .withImage("late:1")
            .withNewSecurityContext()
            .withRunAsUser(2000L)
            .endSecurityContext()
            .endContainer()
            .endSpec()
            .build();
    Pod again = injector.inject(withLate, null);
    assertThat(
            again.getSpec().getContainers().get(1).getSecurityContext().getCapabilities().getDrop())
        .contains("SETUID");
    assertThat(AdmissionHardening.violations(again)).isEmpty();
  }

  @Test
  void rejectsReservedNamesBeforeInjection() {
    Pod pod =
        edit(plainPod())
            .editSpec()
            .addNewContainer()
            .withName("capgate-proxy")
            .withImage("evil")
            .endContainer()
            .addNewVolume()
            .withName("capgate-ca")
            .withNewEmptyDir()
            .endEmptyDir()
            .endVolume()
            .endSpec()
            .build();
    assertThat(AdmissionHardening.reservedNameViolations(pod))
        .containsExactly(
            "container name \"capgate-proxy\" is reserved for the capgate sidecar",
            "volume name \"capgate-ca\" is reserved for the capgate sidecar");
  }

  @Test
  void rejectsEphemeralContainersTargetingTheSidecar() {
    Pod injected = injector.inject(plainPod(), PLAN);
    Pod debugged =
        edit(injected)
            .editSpec()
            .addToEphemeralContainers(
                new EphemeralContainerBuilder()
                    .withName("debugger")
                    .withImage("busybox")
                    .withTargetContainerName("capgate-proxy")
                    .withNewSecurityContext()
                    .withRunAsUser(0L)
                    .endSecurityContext()
                    .build())
            .endSpec()
            .build();
    assertThat(
            AdmissionHardening.ephemeralViolations(
                PodInjector.hardenNewEphemeralContainers(debugged, injected), injected))
        .containsExactly(
            "ephemeral container \"debugger\" targets \"capgate-proxy\": it would share the sidecar's processes and read its CA key");
  }

  @Test
  void rejectsEphemeralContainersMountingTheCaKey() {
    Pod injected = injector.inject(plainPod(), PLAN);
    Pod debugged =
        edit(injected)
            .editSpec()
            .addToEphemeralContainers(
                new EphemeralContainerBuilder()
                    .withName("debugger")
                    .withImage("busybox")
                    .withVolumeMounts(
                        new VolumeMountBuilder()
                            .withName(PodInjector.CA_VOLUME)
                            .withMountPath("/ca")
                            .build())
                    .build())
            .endSpec()
            .build();
    assertThat(AdmissionHardening.ephemeralViolations(debugged))
        .anySatisfy(
            v ->
                assertThat(v)
                    .startsWith("ephemeral container \"debugger\" mounts volume \"capgate-ca\""));
  }

  /**
   * Since issue 13 the trust files live in an emptyDir that capgate-init fills: a debug container
   * that mounted it writable could change what the pod's agents trust. Read-only is fine.
   */
  @Test
  void rejectsEphemeralContainersMountingTheTrustFilesWritable() {
    Pod injected = injector.inject(plainPod(), PLAN);
    for (Boolean readOnly : new Boolean[] {null, false, true}) {
      Pod debugged =
          edit(injected)
              .editSpec()
              .addToEphemeralContainers(
                  new EphemeralContainerBuilder()
                      .withName("debugger")
                      .withImage("busybox")
                      .withVolumeMounts(
                          new VolumeMountBuilder()
                              .withName(PodInjector.TRUST_VOLUME)
                              .withMountPath("/trust")
                              .withReadOnly(readOnly)
                              .build())
                      .build())
              .endSpec()
              .build();
      if (Boolean.TRUE.equals(readOnly)) {
        assertThat(AdmissionHardening.ephemeralViolations(debugged))
            .noneSatisfy(v -> assertThat(v).contains("capgate-trust"));
      } else {
        assertThat(AdmissionHardening.ephemeralViolations(debugged))
            .anySatisfy(
                v ->
                    assertThat(v)
                        .isEqualTo(
                            "ephemeral container \"debugger\" mounts volume \"capgate-trust\","
                                + " writable: the agents' trust files are mounted read-only"));
      }
    }
  }

  @Test
  void rootEphemeralContainerGetsSetuidDropped() {
    Pod injected = injector.inject(plainPod(), PLAN);
    Pod debugged =
        edit(injected)
            .editSpec()
            .addToEphemeralContainers(
                new EphemeralContainerBuilder()
                    .withName("debugger")
                    .withImage("busybox")
                    .withTargetContainerName("agent")
                    .withNewSecurityContext()
                    .withRunAsUser(0L)
                    .endSecurityContext()
                    .build())
            .endSpec()
            .build();
    Pod hardened = PodInjector.hardenNewEphemeralContainers(debugged, injected);
    var sc = hardened.getSpec().getEphemeralContainers().getFirst().getSecurityContext();
    assertThat(sc.getCapabilities().getDrop())
        .containsExactly("SETUID", "SETGID", "NET_ADMIN", "NET_RAW");
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(AdmissionHardening.ephemeralViolations(hardened, injected)).isEmpty();
  }

  static Stream<Arguments> refusedEphemeralContainers() {
    return Stream.of(
        refusedDebugger(
            "ephemeral container without runAsUser → refused",
            new SecurityContextBuilder(),
            "ephemeral container \"debugger\" sets no runAsUser"),
        refusedDebugger(
            "ephemeral container adding SYS_PTRACE → refused",
            new SecurityContextBuilder()
                .withRunAsUser(0L)
                .withCapabilities(new Capabilities(List.of("SYS_PTRACE"), List.of())),
            "ephemeral container \"debugger\" adds capability SYS_PTRACE"),
        refusedDebugger(
            "ephemeral container allowing privilege escalation → refused",
            new SecurityContextBuilder().withRunAsUser(0L).withAllowPrivilegeEscalation(true),
            "ephemeral container \"debugger\" sets allowPrivilegeEscalation: true"),
        refusedDebugger(
            "privileged ephemeral container → refused",
            new SecurityContextBuilder().withRunAsUser(0L).withPrivileged(true),
            "ephemeral container \"debugger\" is privileged"),
        refusedDebugger(
            "ephemeral container as uid 1447 → refused",
            new SecurityContextBuilder().withRunAsUser(1447L),
            "ephemeral container \"debugger\" runs as uid 1447"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedEphemeralContainers")
  void refusesEphemeralContainers(String rule, UnaryOperator<Pod> shape, String message) {
    Pod injected = injector.inject(plainPod(), PLAN);
    Pod hardened = PodInjector.hardenNewEphemeralContainers(shape.apply(injected), injected);
    assertThat(AdmissionHardening.ephemeralViolations(hardened, injected))
        .anySatisfy(v -> assertThat(v).contains(message));
  }

  private static Arguments refusedDebugger(String rule, SecurityContextBuilder sc, String message) {
    UnaryOperator<Pod> shape =
        p ->
            edit(p)
                .editSpec()
                .addToEphemeralContainers(
                    new EphemeralContainerBuilder()
                        .withName("debugger")
                        .withImage("busybox")
                        .withTargetContainerName("agent")
                        .withSecurityContext(sc.build())
                        .build())
                .endSpec()
                .build();
    return Arguments.of(rule, shape, message);
  }

  static Stream<Arguments> refusedUpdates() {
    return Stream.of(
        refused(
            "refuses changing the sidecar's image",
            p ->
                edit(p)
                    .editSpec()
                    .editMatchingInitContainer(c -> c.getName().equals("capgate-proxy"))
                    .withImage("evil/proxy:allow-all")
                    .endInitContainer()
                    .endSpec()
                    .build(),
            "the image of container \"capgate-proxy\" cannot be changed (capgate/sidecar:test -> evil/proxy:allow-all)"),
        refused(
            "refuses changing the init container's image",
            p ->
                edit(p)
                    .editSpec()
                    .editMatchingInitContainer(c -> c.getName().equals("capgate-init"))
                    .withImage("evil/init:no-rules")
                    .endInitContainer()
                    .endSpec()
                    .build(),
            "the image of container \"capgate-init\" cannot be changed"),
        refused(
            "refuses changing anything else of the sidecar",
            p ->
                edit(p)
                    .editSpec()
                    .editMatchingInitContainer(c -> c.getName().equals("capgate-proxy"))
                    .withArgs("proxy", "--allow-all")
                    .endInitContainer()
                    .endSpec()
                    .build(),
            "container \"capgate-proxy\" of an injected pod cannot be changed"),
        refused(
            "refuses removing the sidecar",
            p ->
                edit(p)
                    .editSpec()
                    .removeMatchingFromInitContainers(c -> c.getName().equals("capgate-proxy"))
                    .endSpec()
                    .build(),
            "container \"capgate-proxy\" cannot be removed from an injected pod"),
        refused(
            "refuses removing the sidecar's CA volume",
            p ->
                edit(p)
                    .editSpec()
                    .removeMatchingFromVolumes(v -> v.getName().equals("capgate-ca"))
                    .endSpec()
                    .build(),
            "volume \"capgate-ca\" of an injected pod cannot be changed or removed"),
        refused(
            "refuses changing the session label",
            p ->
                edit(p)
                    .editMetadata()
                    .addToLabels(PodMarkers.SESSION, "another-session")
                    .endMetadata()
                    .build(),
            "label capgate.dev/session cannot be changed on a running pod (capgate finds a session's pods by it"),
        refused(
            "refuses removing the session label",
            p -> edit(p).editMetadata().removeFromLabels(PodMarkers.SESSION).endMetadata().build(),
            "label capgate.dev/session cannot be removed from a running pod"),
        refused(
            "refuses removing the opt-in label",
            p -> edit(p).editMetadata().removeFromLabels(PodMarkers.INJECT).endMetadata().build(),
            "label capgate.dev/inject cannot be removed from a running pod (without it capgate no longer sees"),
        refused(
            "refuses changing the CA annotation",
            p ->
                edit(p)
                    .editMetadata()
                    .addToAnnotations(PodMarkers.CA, "capgate-ca-other00000")
                    .endMetadata()
                    .build(),
            "annotation capgate.dev/ca cannot be changed on a running pod"),
        refused(
            "refuses removing the status annotation",
            p ->
                edit(p)
                    .editMetadata()
                    .removeFromAnnotations(PodMarkers.STATUS)
                    .endMetadata()
                    .build(),
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
    Pod plain =
        new PodBuilder()
            .withNewMetadata()
            .withName("running")
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("app")
            .withImage("app:1")
            .endContainer()
            .endSpec()
            .build();
    Pod optedIn =
        edit(plain)
            .editMetadata()
            .addToLabels(PodMarkers.INJECT, "true")
            .addToLabels(PodMarkers.SESSION, "s")
            .endMetadata()
            .build();
    assertThat(AdmissionHardening.updateViolations(plain, optedIn))
        .containsExactly(
            "label capgate.dev/inject cannot be added to a running pod (a pod opts in to capgate when it is created:"
                + " recreate it with the label capgate.dev/inject=true)",
            "label capgate.dev/session cannot be added to a running pod (a pod opts in to capgate when it is created:"
                + " recreate it with the label capgate.dev/inject=true)");
  }

  @Test
  void acceptsUpdatesThatLeaveCapgateAlone() {
    Pod injected = injector.inject(plainPod(), PLAN);
    Pod updated =
        edit(injected)
            .editMetadata()
            .addToLabels("team", "payments")
            .addToAnnotations("note", "x")
            .endMetadata()
            .editSpec()
            .editFirstContainer()
            .withImage("registry.example/agent:1.1")
            .endContainer()
            .withActiveDeadlineSeconds(600L)
            .endSpec()
            .build();
    assertThat(AdmissionHardening.updateViolations(injected, updated)).isEmpty();
  }

  /**
   * Bypass 3: a pod that claims to be injected is compared with what the webhook makes of the plan
   * it names. Each forgery is refused with its first difference.
   */
  static Stream<Arguments> forgedInjections() {
    return Stream.of(
        refused(
            "forged capgate-proxy running sleep → refused",
            p -> editInit(p, "capgate-proxy", c -> c.withCommand("sleep", "infinity")),
            "capgate-proxy.command is not set by capgate"),
        refused(
            "no-op capgate-init → refused",
            p -> editInit(p, "capgate-init", c -> c.withImage("busybox").withArgs("true")),
            "capgate-init.args[0] is \"true\", capgate sets \"init\""),
        refused(
            "capgate-proxy of another image → refused",
            p -> editInit(p, "capgate-proxy", c -> c.withImage("evil/proxy:allow-all")),
            "capgate-proxy.image is \"evil/proxy:allow-all\", capgate sets \"capgate/sidecar:test\""),
        refused(
            "capgate-proxy running as another uid → refused",
            p ->
                editInit(
                    p,
                    "capgate-proxy",
                    c -> c.editSecurityContext().withRunAsUser(1000L).endSecurityContext()),
            "capgate-proxy.securityContext.runAsUser is 1000, capgate sets 1447"),
        refused(
            "capgate-proxy without its startup probe → refused",
            p -> editInit(p, "capgate-proxy", c -> c.withStartupProbe(null)),
            "capgate-proxy.startupProbe is missing"),
        refused(
            "capgate-proxy sent to another operator for its Vault token → refused",
            p ->
                editInit(
                    p,
                    "capgate-proxy",
                    c ->
                        c.editMatchingEnv(e -> e.getName().equals("CAPGATE_OPERATOR_URL"))
                            .withValue("https://attacker.example:443")
                            .endEnv()),
            "capgate-proxy.env"),
        refused(
            "capgate-proxy with another Vault address → refused",
            p ->
                editInit(
                    p,
                    "capgate-proxy",
                    c ->
                        c.editMatchingEnv(e -> e.getName().equals(SidecarContract.ENV_VAULT_ADDR))
                            .withValue("http://vault.attacker.example:8200")
                            .endEnv()),
            "capgate-proxy.env"),
        refused(
            "capgate-proxy as a plain sidecar container (no restartPolicy) → refused",
            p -> editInit(p, "capgate-proxy", c -> c.withRestartPolicy(null)),
            "capgate-proxy.restartPolicy is missing"),
        refused(
            "capgate containers swapped → refused",
            p ->
                edit(p)
                    .editSpec()
                    .withInitContainers(
                        p.getSpec().getInitContainers().get(1),
                        p.getSpec().getInitContainers().get(0))
                    .endSpec()
                    .build(),
            "init container 1 is not capgate-init"),
        refused(
            "capgate-init left out → refused",
            p ->
                edit(p)
                    .editSpec()
                    .removeMatchingFromInitContainers(c -> c.getName().equals("capgate-init"))
                    .endSpec()
                    .build(),
            "init container 1 is not capgate-init"),
        refused(
            "a second capgate-proxy among the containers → refused",
            p ->
                edit(p)
                    .editSpec()
                    .addToContainers(p.getSpec().getInitContainers().get(1))
                    .endSpec()
                    .build(),
            "a container named capgate-proxy"),
        refused(
            "token automount back on → refused",
            p -> edit(p).editSpec().withAutomountServiceAccountToken(null).endSpec().build(),
            "automountServiceAccountToken is not false"),
        refused(
            "the CA volume names another Secret → refused",
            p ->
                edit(p)
                    .editSpec()
                    .editMatchingVolume(v -> v.getName().equals("capgate-ca"))
                    .editSecret()
                    .withSecretName("capgate-ca-other00000")
                    .endSecret()
                    .endVolume()
                    .endSpec()
                    .build(),
            "volume capgate-ca.secret.secretName is \"capgate-ca-other00000\""),
        refused(
            "the sidecar's token with another audience → refused",
            p ->
                edit(p)
                    .editSpec()
                    .editMatchingVolume(v -> v.getName().equals("capgate-token"))
                    .editProjected()
                    .editFirstSource()
                    .editServiceAccountToken()
                    .withAudience("other")
                    .endServiceAccountToken()
                    .endSource()
                    .endProjected()
                    .endVolume()
                    .endSpec()
                    .build(),
            "volume capgate-token.projected.sources[0].serviceAccountToken.audience"),
        refused(
            "an extra service-account token volume → refused",
            p ->
                edit(p)
                    .editSpec()
                    .addToVolumes(
                        new VolumeBuilder()
                            .withName("kube-api-access-x")
                            .withNewProjected()
                            .addNewSource()
                            .withNewServiceAccountToken()
                            .withPath("token")
                            .endServiceAccountToken()
                            .endSource()
                            .endProjected()
                            .build())
                    .endSpec()
                    .build(),
            "volume kube-api-access-x holds a service-account token besides the sidecar's"),
        refused(
            "an agent container pointing SSL_CERT_FILE elsewhere → refused",
            p ->
                edit(p)
                    .editSpec()
                    .editFirstContainer()
                    .editMatchingEnv(e -> e.getName().equals("SSL_CERT_FILE"))
                    .withValue("/tmp/mine.pem")
                    .endEnv()
                    .endContainer()
                    .endSpec()
                    .build(),
            "container agent has another SSL_CERT_FILE"),
        refused(
            "marked injected without any capgate part → refused",
            p ->
                edit(plainPod())
                    .editMetadata()
                    .withAnnotations(p.getMetadata().getAnnotations())
                    .endMetadata()
                    .build(),
            "init container 1 is not capgate-init"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("forgedInjections")
  void refusesForgedInjections(String rule, UnaryOperator<Pod> forge, String message) {
    Pod forged = forge.apply(injector.inject(plainPod(), PLAN));
    assertThat(InjectionClaim.difference(forged, PLAN, injector))
        .hasValueSatisfying(d -> assertThat(d).contains(message));
  }

  @Test
  void theWebhooksOwnOutputIsItsClaim() {
    for (String name :
        List.of(
            "pod",
            "pod-with-init-containers",
            "pod-with-java-tool-options",
            "pod-generate-name",
            "pod-with-placeholders")) {
      Pod injected =
          InjectionFixtures.pod(InjectionFixtures.resource("/golden/" + name + ".injected.yaml"));
      assertThat(InjectionClaim.difference(injected, InjectionFixtures.planFor(name), injector))
          .as(name)
          .isEmpty();
    }
  }

  /**
   * Re-invocation: the API server has defaulted the webhook's output, another webhook added a
   * container.
   */
  @Test
  void theWebhooksOutputAsTheApiServerDefaultsItIsItsClaim() {
    Pod defaulted =
        edit(injector.inject(plainPod(), PLAN))
            .editSpec()
            .editMatchingInitContainer(c -> c.getName().equals("capgate-proxy"))
            .withTerminationMessagePath("/dev/termination-log")
            .withTerminationMessagePolicy("File")
            .editStartupProbe()
            .withTimeoutSeconds(1)
            .withSuccessThreshold(1)
            .editHttpGet()
            .withScheme("HTTP")
            .endHttpGet()
            .endStartupProbe()
            .editMatchingEnv(e -> e.getName().equals("CAPGATE_POD_NAME"))
            .editValueFrom()
            .editFieldRef()
            .withApiVersion("v1")
            .endFieldRef()
            .endValueFrom()
            .endEnv()
            .withResources(
                new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder()
                    .addToRequests("cpu", new io.fabric8.kubernetes.api.model.Quantity("50m"))
                    .addToRequests("memory", new io.fabric8.kubernetes.api.model.Quantity("96Mi"))
                    .addToLimits("cpu", new io.fabric8.kubernetes.api.model.Quantity("1000m"))
                    .addToLimits("memory", new io.fabric8.kubernetes.api.model.Quantity("256Mi"))
                    .build())
            .endInitContainer()
            .editMatchingVolume(v -> v.getName().equals("capgate-ca"))
            .editSecret()
            .withDefaultMode(420)
            .endSecret()
            .endVolume()
            .addNewContainer()
            .withName("late")
            .withImage("late:1")
            .endContainer()
            .endSpec()
            .build();
    assertThat(InjectionClaim.difference(defaulted, PLAN, injector)).isEmpty();
  }

  /** The CA a pod names must be a fresh one of its session, with the fingerprint it claims. */
  static Stream<Arguments> claimedCas() {
    return Stream.of(
        Arguments.of(
            "claims a CA of another pod → refused",
            (UnaryOperator<Secret>)
                s ->
                    new SecretBuilder(s)
                        .editMetadata()
                        .addNewOwnerReference()
                        .withApiVersion("v1")
                        .withKind("Pod")
                        .withName("victim")
                        .withUid("u1")
                        .endOwnerReference()
                        .endMetadata()
                        .build(),
            "its CA capgate-ca-test0test0 belongs to another pod"),
        Arguments.of(
            "claims a CA of another session → refused",
            (UnaryOperator<Secret>)
                s ->
                    new SecretBuilder(s)
                        .editMetadata()
                        .addToLabels("capgate.dev/session", "other")
                        .endMetadata()
                        .build(),
            "its CA Secret capgate-ca-test0test0 is not a CA of session fix-issue-42"),
        Arguments.of(
            "claims a CA that does not exist → refused",
            (UnaryOperator<Secret>) s -> null,
            "its CA Secret capgate-ca-test0test0 does not exist"),
        Arguments.of(
            "claims the fingerprint of another CA → refused",
            (UnaryOperator<Secret>)
                s -> new SecretBuilder(s).addToData("root.crt", s.getData().get("ca.crt")).build(),
            "the fingerprint annotation is not that of CA"),
        Arguments.of(
            "carries placeholders the CA does not → refused",
            (UnaryOperator<Secret>)
                s ->
                    new SecretBuilder(s)
                        .addToData(
                            "placeholders.json",
                            java.util.Base64.getEncoder()
                                .encodeToString("{\"github\":\"x\"}".getBytes()))
                        .build(),
            "its placeholders are not those of CA"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("claimedCas")
  void refusesClaimsOfCasThatAreNotTheirs(
      String rule, UnaryOperator<Secret> change, String message) {
    MintedCa ca =
        new PodCaMinter(java.time.Clock.systemUTC(), java.time.Duration.ofHours(1))
            .mint("capgate-ca-test0test0", List.of("api.github.com"), null);
    Secret fresh =
        PodCaObjects.secret("agents", "capgate-ca-test0test0", "fix-issue-42", null, ca, "{}");
    assertThat(
            InjectionClaim.caDifference(
                fresh, "capgate-ca-test0test0", "fix-issue-42", ca.fingerprint(), "{}"))
        .isEmpty();
    assertThat(
            InjectionClaim.caDifference(
                change.apply(fresh),
                "capgate-ca-test0test0",
                "fix-issue-42",
                ca.fingerprint(),
                "{}"))
        .hasValueSatisfying(d -> assertThat(d).contains(message));
  }

  private static Pod editInit(
      Pod pod,
      String name,
      UnaryOperator<io.fabric8.kubernetes.api.model.ContainerBuilder> change) {
    Pod out = edit(pod).build();
    out.getSpec()
        .setInitContainers(
            new java.util.ArrayList<>(
                out.getSpec().getInitContainers().stream()
                    .map(
                        c ->
                            c.getName().equals(name)
                                ? change
                                    .apply(new io.fabric8.kubernetes.api.model.ContainerBuilder(c))
                                    .build()
                                : c)
                    .toList()));
    return out;
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
    return edit(pod)
        .editSpec()
        .editFirstContainer()
        .withSecurityContext(sc.build())
        .endContainer()
        .endSpec()
        .build();
  }

  private static Pod withAgentCaps(Pod pod, String cap) {
    return withAgentSecurity(
        pod,
        new SecurityContextBuilder()
            .withRunAsUser(1000L)
            .withCapabilities(new Capabilities(List.of(cap), List.of())));
  }

  private static Pod withAgentVolume(Pod pod, io.fabric8.kubernetes.api.model.Volume volume) {
    return edit(pod)
        .editSpec()
        .addToVolumes(volume)
        .editFirstContainer()
        .addToVolumeMounts(
            new VolumeMountBuilder().withName(volume.getName()).withMountPath("/x").build())
        .endContainer()
        .endSpec()
        .build();
  }

  private static Pod withAgentMount(Pod pod, String volumeName) {
    return edit(pod)
        .editSpec()
        .editFirstContainer()
        .addToVolumeMounts(
            new VolumeMountBuilder().withName(volumeName).withMountPath("/x").build())
        .endContainer()
        .endSpec()
        .build();
  }
}
