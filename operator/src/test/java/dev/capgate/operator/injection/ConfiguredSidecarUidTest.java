package dev.capgate.operator.injection;

import static dev.capgate.operator.injection.InjectionFixtures.PLAN;
import static dev.capgate.operator.injection.InjectionFixtures.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.SidecarPorts;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import org.junit.jupiter.api.Test;

/**
 * Attacks on a moved sidecar uid (chart {@code sidecar.proxyUid}): the uid the hardening guards is
 * the one the pod's init rules exempt, not the contract's default. Without that, an agent running
 * as the configured uid would leave the pod uninspected while the webhook checked for 1447.
 */
class ConfiguredSidecarUidTest {
  private static final SidecarPorts MOVED = new SidecarPorts(4242, 20001, 20053, 20021);
  private final PodInjector moved =
      new PodInjector(SETTINGS.withPorts(MOVED), InjectionFixtures.TRUST_ROOTS);

  @Test
  void anAgentRunningAsTheConfiguredUidIsRefused() {
    Pod injected = moved.inject(agentAs(4242L), PLAN);
    assertThat(AdmissionHardening.violations(injected))
        .anySatisfy(v -> assertThat(v).contains("runs as uid 4242, the capgate sidecar's uid"));
  }

  @Test
  void theConfiguredUidIsRefusedAsAGroupToo() {
    Pod pod =
        new PodBuilder(agentAs(1000L))
            .editSpec()
            .withSecurityContext(new PodSecurityContextBuilder().withFsGroup(4242L).build())
            .endSpec()
            .build();
    assertThat(AdmissionHardening.violations(moved.inject(pod, PLAN)))
        .anySatisfy(v -> assertThat(v).contains("spec.securityContext.fsGroup is 4242"));
  }

  @Test
  void theDefaultUidIsAnOrdinaryUidWhenTheSidecarRunsAsAnother() {
    assertThat(AdmissionHardening.violations(moved.inject(agentAs(1447L), PLAN))).isEmpty();
    assertThat(AdmissionHardening.violations(moved.inject(agentAs(1000L), PLAN))).isEmpty();
  }

  @Test
  void aDebugContainerIsCheckedAgainstThePodsOwnUid() {
    // The pod was injected with 4242; the operator now injecting the defaults changes nothing for
    // it: its rules exempt 4242.
    Pod injected = moved.inject(agentAs(1000L), PLAN);
    Pod debugged =
        new PodBuilder(injected)
            .editSpec()
            .withEphemeralContainers(
                new EphemeralContainerBuilder()
                    .withName("debugger")
                    .withImage("busybox")
                    .withSecurityContext(new SecurityContextBuilder().withRunAsUser(4242L).build())
                    .build())
            .endSpec()
            .build();
    Pod hardened = PodInjector.hardenNewEphemeralContainers(debugged, injected);
    assertThat(AdmissionHardening.ephemeralViolations(hardened, injected))
        .anySatisfy(
            v ->
                assertThat(v)
                    .contains(
                        "ephemeral container \"debugger\" runs as uid 4242, the capgate sidecar's uid"));
  }

  /** Beside a mesh: its proxy's uid is exempt in the rules, so no agent may run as it either. */
  @Test
  void anAgentRunningAsTheMeshProxysUidIsRefusedToo() {
    PodInjector beside =
        new PodInjector(
            SETTINGS.withPorts(
                new SidecarPorts(
                    1447, 14001, 14053, 14021, new java.util.TreeSet<>(java.util.List.of(1337)))),
            InjectionFixtures.TRUST_ROOTS);
    Pod injected = beside.inject(agentAs(1337L), PLAN);
    assertThat(InjectedPods.initEnv(injected)).containsEntry("CAPGATE_EXEMPT_UIDS", "1337");
    assertThat(AdmissionHardening.violations(injected))
        .anySatisfy(
            v ->
                assertThat(v)
                    .contains(
                        "runs as uid 1337, a uid the pod's capgate rules exempt for another proxy"));
    // A group of the mesh proxy is no way around the uid-owner rules: allowed (Istio pods often
    // set fsGroup 1337).
    Pod meshGroup =
        new PodBuilder(agentAs(1000L))
            .editSpec()
            .withSecurityContext(new PodSecurityContextBuilder().withFsGroup(1337L).build())
            .endSpec()
            .build();
    assertThat(AdmissionHardening.violations(beside.inject(meshGroup, PLAN))).isEmpty();
    // Without a mesh, 1337 is an ordinary uid.
    assertThat(AdmissionHardening.violations(moved.inject(agentAs(1337L), PLAN))).isEmpty();
  }

  @Test
  void theInjectedPodCarriesTheConfiguredUidForItsRules() {
    Pod injected = moved.inject(agentAs(1000L), PLAN);
    assertThat(AdmissionHardening.exemptUid(injected)).isEqualTo(4242L);
    assertThat(InjectedPods.initEnv(injected)).containsEntry("CAPGATE_PROXY_UID", "4242");
  }

  private static Pod agentAs(long uid) {
    return new PodBuilder(AdmissionHardeningTest.plainPod())
        .editSpec()
        .editFirstContainer()
        .withSecurityContext(new SecurityContextBuilder().withRunAsUser(uid).build())
        .endContainer()
        .endSpec()
        .build();
  }
}
