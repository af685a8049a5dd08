package dev.capgate.operator.injection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.SidecarContract;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code CAPGATE_SIDECAR_UPSTREAM_CA_CONFIGMAP}: the sidecar (and only the sidecar) trusts the CAs
 * of private upstreams from a ConfigMap; without the setting nothing changes (golden files).
 */
class PodInjectorUpstreamCaTest {
  private static final SidecarSettings WITH_CA =
      new SidecarSettings(
          "capgate/sidecar:test",
          "IfNotPresent",
          "https://vault.vault.svc:8200",
          "capgate",
          3600,
          Map.of("cpu", "50m", "memory", "96Mi"),
          Map.of("cpu", "1", "memory", "256Mi"),
          "internal-cas");

  @Test
  void theSidecarGetsTheConfigMapAndTheVariableNamingIt() {
    Pod injected =
        new PodInjector(WITH_CA, InjectionFixtures.TRUST_ROOTS)
            .inject(input(), InjectionFixtures.PLAN);

    Volume volume =
        injected.getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals(PodInjector.UPSTREAM_CA_VOLUME))
            .findFirst()
            .orElseThrow();
    assertThat(volume.getConfigMap().getName()).isEqualTo("internal-cas");
    assertThat(volume.getConfigMap().getOptional()).isNull();

    Container proxy = container(injected, SidecarContract.PROXY_CONTAINER);
    assertThat(proxy.getEnv())
        .extracting(EnvVar::getName, EnvVar::getValue)
        .contains(
            org.assertj.core.groups.Tuple.tuple(
                "CAPGATE_UPSTREAM_CA_FILE", "/etc/capgate/upstream-ca/ca.crt"));
    assertThat(proxy.getVolumeMounts())
        .extracting(VolumeMount::getName, VolumeMount::getMountPath, VolumeMount::getReadOnly)
        .contains(
            org.assertj.core.groups.Tuple.tuple(
                PodInjector.UPSTREAM_CA_VOLUME, "/etc/capgate/upstream-ca", true));
    for (Container agent : PodInjector.agentContainers(injected.getSpec())) {
      assertThat(agent.getVolumeMounts())
          .extracting(VolumeMount::getName)
          .doesNotContain(PodInjector.UPSTREAM_CA_VOLUME);
    }
  }

  @Test
  void withoutTheSettingNothingIsAdded() {
    Pod injected =
        new PodInjector(InjectionFixtures.SETTINGS, InjectionFixtures.TRUST_ROOTS)
            .inject(input(), InjectionFixtures.PLAN);
    assertThat(injected.getSpec().getVolumes())
        .extracting(Volume::getName)
        .doesNotContain(PodInjector.UPSTREAM_CA_VOLUME);
    assertThat(container(injected, SidecarContract.PROXY_CONTAINER).getEnv())
        .extracting(EnvVar::getName)
        .doesNotContain("CAPGATE_UPSTREAM_CA_FILE");
  }

  @Test
  void theVolumeNameIsReservedAndItsChangeRefused() {
    assertThat(PodInjector.RESERVED_VOLUMES).contains(PodInjector.UPSTREAM_CA_VOLUME);
  }

  private static Pod input() {
    return InjectionFixtures.pod(InjectionFixtures.resource("/golden/pod.yaml"));
  }

  private static Container container(Pod pod, String name) {
    return pod.getSpec().getInitContainers().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }
}
