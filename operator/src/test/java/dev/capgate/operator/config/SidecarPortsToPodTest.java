package dev.capgate.operator.config;

import static dev.capgate.operator.injection.InjectedPods.container;
import static dev.capgate.operator.injection.InjectedPods.initEnv;
import static dev.capgate.operator.injection.InjectedPods.proxyEnv;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.sidecar.SidecarPorts;
import dev.capgate.operator.TestPods;
import dev.capgate.operator.injection.InjectionPlan;
import dev.capgate.operator.injection.PodInjector;
import dev.capgate.operator.injection.TrustRootsRef;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The chart's {@code sidecar.proxyUid} and {@code sidecar.ports} reach the operator as {@code
 * CAPGATE_SIDECAR_PROXY_UID}, {@code _PROXY_PORT}, {@code _DNS_PORT}, {@code _ADMIN_PORT}; the
 * injected init rules and the sidecar get the same values (one path: docs/meshes.md), and a bad
 * value stops the operator at start with its name.
 */
class SidecarPortsToPodTest {

  private static final TrustRootsRef ROOTS = new TrustRootsRef("capgate-trust-roots-test", "00");
  private static final Map<String, String> MOVED =
      Map.of(
          "CAPGATE_SIDECAR_PROXY_UID", "4242",
          "CAPGATE_SIDECAR_PROXY_PORT", "20001",
          "CAPGATE_SIDECAR_DNS_PORT", "20053",
          "CAPGATE_SIDECAR_ADMIN_PORT", "20021");

  @Test
  void withoutSettingsTheContractsDefaultsAreInjected() {
    assertThat(OperatorConfig.fromEnv(Map.of()).sidecar().ports()).isEqualTo(SidecarPorts.DEFAULTS);
    assertThat(SidecarPorts.DEFAULTS).isEqualTo(new SidecarPorts(1447, 14001, 14053, 14021));
  }

  @Test
  void theOperatorsUidAndPortsReachTheInitRulesAndTheSidecar() {
    OperatorConfig config = OperatorConfig.fromEnv(MOVED);
    assertThat(config.sidecar().ports()).isEqualTo(new SidecarPorts(4242, 20001, 20053, 20021));

    Pod injected = new PodInjector(config.sidecar(), ROOTS).inject(agentPod(), plan());
    Map<String, String> expected =
        Map.of(
            SidecarContract.ENV_PROXY_UID, "4242",
            SidecarContract.ENV_PROXY_PORT, "20001",
            SidecarContract.ENV_DNS_PORT, "20053",
            SidecarContract.ENV_ADMIN_PORT, "20021");
    assertThat(initEnv(injected)).containsAllEntriesOf(expected);
    assertThat(proxyEnv(injected)).containsAllEntriesOf(expected);
    Container proxy = container(injected, SidecarContract.PROXY_CONTAINER);
    assertThat(proxy.getSecurityContext().getRunAsUser()).isEqualTo(4242L);
    assertThat(proxy.getSecurityContext().getRunAsGroup()).isEqualTo(4242L);
    assertThat(proxy.getStartupProbe().getHttpGet().getPort().getIntVal()).isEqualTo(20021);
    assertThat(proxy.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(20021);
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "CAPGATE_SIDECAR_PROXY_UID   | 0      | proxy uid must be a non-root uid",
        "CAPGATE_SIDECAR_PROXY_UID   | root   | CAPGATE_SIDECAR_PROXY_UID must be a number",
        "CAPGATE_SIDECAR_PROXY_PORT  | 70000  | proxy port must be 1..65535, got 70000",
        "CAPGATE_SIDECAR_DNS_PORT    | 14001  | proxy port and dns port must differ, both are 14001",
        "CAPGATE_SIDECAR_ADMIN_PORT  | 0      | admin port must be 1..65535, got 0",
        "CAPGATE_SIDECAR_ADMIN_PORT  | 1.5    | CAPGATE_SIDECAR_ADMIN_PORT must be a number",
        "CAPGATE_SIDECAR_EXEMPT_UIDS | istio  | CAPGATE_SIDECAR_EXEMPT_UIDS must be comma-separated uids",
        "CAPGATE_SIDECAR_EXEMPT_UIDS | 1447   | exempt uid 1447 is the sidecar's own uid",
      })
  void aBadValueStopsTheOperatorNamingItsSetting(String variable, String value, String message) {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of(variable, value)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message)
        .hasMessageContaining("chart sidecar.proxyUid, sidecar.ports");
  }

  /** Chart {@code sidecar.adminExposeMetrics}: off unless said, on when said, else refused. */
  @Test
  void theAdminExposeMetricsSettingReachesTheSidecarOnlyWhenOn() {
    Pod off =
        new PodInjector(OperatorConfig.fromEnv(Map.of()).sidecar(), ROOTS)
            .inject(agentPod(), plan());
    assertThat(proxyEnv(off)).doesNotContainKey(SidecarContract.ENV_ADMIN_EXPOSE_METRICS);
    assertThat(initEnv(off)).doesNotContainKey(SidecarContract.ENV_ADMIN_EXPOSE_METRICS);

    OperatorConfig on =
        OperatorConfig.fromEnv(Map.of("CAPGATE_SIDECAR_ADMIN_EXPOSE_METRICS", "true"));
    Pod exposed = new PodInjector(on.sidecar(), ROOTS).inject(agentPod(), plan());
    assertThat(proxyEnv(exposed)).containsEntry(SidecarContract.ENV_ADMIN_EXPOSE_METRICS, "true");
    assertThat(initEnv(exposed)).doesNotContainKey(SidecarContract.ENV_ADMIN_EXPOSE_METRICS);

    assertThatThrownBy(
            () -> OperatorConfig.fromEnv(Map.of("CAPGATE_SIDECAR_ADMIN_EXPOSE_METRICS", "on")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "CAPGATE_SIDECAR_ADMIN_EXPOSE_METRICS (chart sidecar.adminExposeMetrics) must be true or false, got 'on'");
  }

  /**
   * Chart {@code sidecar.logLevel} (else {@code logLevel}): the injected sidecar gets it as {@code
   * CAPGATE_LOG_LEVEL}; unset, nothing (INFO); a typo stops the operator, not every sidecar.
   */
  @Test
  void theSidecarLogLevelReachesTheSidecarAndATypoIsRefusedAtTheOperator() {
    Pod unset =
        new PodInjector(OperatorConfig.fromEnv(Map.of()).sidecar(), ROOTS)
            .inject(agentPod(), plan());
    assertThat(proxyEnv(unset)).doesNotContainKey(SidecarContract.ENV_LOG_LEVEL);

    Pod debug =
        new PodInjector(
                OperatorConfig.fromEnv(Map.of("CAPGATE_SIDECAR_LOG_LEVEL", "DEBUG")).sidecar(),
                ROOTS)
            .inject(agentPod(), plan());
    assertThat(proxyEnv(debug)).containsEntry(SidecarContract.ENV_LOG_LEVEL, "DEBUG");
    assertThat(initEnv(debug)).doesNotContainKey(SidecarContract.ENV_LOG_LEVEL);

    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("CAPGATE_SIDECAR_LOG_LEVEL", "verbose")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CAPGATE_SIDECAR_LOG_LEVEL (sidecar.logLevel)")
        .hasMessageContaining("ERROR, WARN, INFO, DEBUG, TRACE");
  }

  /** An agent container with a uid of its own, which admission hardening asks for. */
  private static Pod agentPod() {
    return TestPods.agent()
        .editSpec()
        .editFirstContainer()
        .withNewSecurityContext()
        .withRunAsUser(1000L)
        .endSecurityContext()
        .endContainer()
        .endSpec()
        .build();
  }

  private static InjectionPlan plan() {
    return new InjectionPlan(
        "agents", "s", "capgate-ca-x", "sha256:00", "capgate-leases-s", List.of());
  }
}
