package dev.capgate.api.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The uid and ports the init rules and the sidecar share: defaults apart from meshes, checks. */
class SidecarPortsTest {
  /** Istio's sidecar and gateway ports (15000-15090) and its proxy uid. */
  private static final int ISTIO_UID = 1337;

  /** Linkerd's proxy uid and ports (outbound, inbound, control, admin). */
  private static final int LINKERD_UID = 2102;

  private static final int[] LINKERD_PORTS = {4140, 4143, 4190, 4191};

  @Test
  void defaultsCollideWithNeitherIstioNorLinkerd() {
    SidecarPorts d = SidecarPorts.DEFAULTS;
    assertThat(d.proxyUid()).isNotIn(0, ISTIO_UID, LINKERD_UID);
    for (int port : new int[] {d.proxyPort(), d.dnsPort(), d.adminPort()}) {
      assertThat(port < 15000 || port > 15090).as("%d outside Istio's 15000-15090", port).isTrue();
      assertThat(port).as("Linkerd's ports").isNotIn(IntStream.of(LINKERD_PORTS).boxed().toArray());
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "uid 0              | 0    | 14001 | 14053 | 14021 | proxy uid must be a non-root uid",
        "negative uid       | -5   | 14001 | 14053 | 14021 | proxy uid must be a non-root uid",
        "proxy port 0       | 1447 | 0     | 14053 | 14021 | proxy port must be 1..65535, got 0",
        "dns port too large | 1447 | 14001 | 65536 | 14021 | dns port must be 1..65535, got 65536",
        "admin port < 0     | 1447 | 14001 | 14053 | -1    | admin port must be 1..65535, got -1",
        "proxy = dns        | 1447 | 14001 | 14001 | 14021 | proxy port and dns port must differ, both are 14001",
        "proxy = admin      | 1447 | 14021 | 14053 | 14021 | proxy port and admin port must differ, both are 14021",
        "dns = admin        | 1447 | 14001 | 14053 | 14053 | dns port and admin port must differ, both are 14053",
      })
  void badValuesAreRefusedWithTheirName(
      String what, int uid, int proxy, int dns, int admin, String message) {
    assertThatThrownBy(() -> new SidecarPorts(uid, proxy, dns, admin))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void theExtremesOfTheRangesAreAllowed() {
    assertThat(new SidecarPorts(Integer.MAX_VALUE, 1, 65535, 2).proxyPort()).isEqualTo(1);
  }

  @Test
  void readingChecksTheSameWay() {
    Map<String, String> env =
        Map.of(SidecarContract.ENV_PROXY_PORT, "20001", SidecarContract.ENV_DNS_PORT, "20001");
    assertThatThrownBy(() -> SidecarPorts.read(name -> Optional.ofNullable(env.get(name))))
        .hasMessageContaining("proxy port and dns port must differ, both are 20001");
    assertThat(
            SidecarPorts.read(
                name ->
                    Optional.ofNullable(Map.of(SidecarContract.ENV_PROXY_UID, "4242").get(name))))
        .isEqualTo(new SidecarPorts(4242, 14001, 14053, 14021));
  }
}
