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
  void aMeshProxysUidsAreWrittenAndReadBackAndChecked() {
    SidecarPorts beside = new SidecarPorts(1447, 14001, 14053, 14021, uids(2102, 1337));
    assertThat(beside.toEnv()).containsEntry(SidecarContract.ENV_EXEMPT_UIDS, "1337,2102");
    assertThat(SidecarPorts.read(name -> Optional.ofNullable(beside.toEnv().get(name))))
        .isEqualTo(beside);
    assertThat(beside.uidsLeftAlone()).containsExactly(1337, 1447, 2102);
    assertThat(SidecarPorts.DEFAULTS.toEnv()).doesNotContainKey(SidecarContract.ENV_EXEMPT_UIDS);

    assertThatThrownBy(() -> new SidecarPorts(1447, 14001, 14053, 14021, uids(1447)))
        .hasMessageContaining("exempt uid 1447 is the sidecar's own uid");
    assertThatThrownBy(() -> new SidecarPorts(1447, 14001, 14053, 14021, uids(0)))
        .hasMessageContaining("exempt uid must be a non-root uid");
    assertThatThrownBy(
            () -> new SidecarPorts(1447, 14001, 14053, 14021, uids(1, 2, 3, 4, 5, 6, 7, 8, 9)))
        .hasMessageContaining("at most 8 exempt uids, got 9");
    Map<String, String> bad = Map.of(SidecarContract.ENV_EXEMPT_UIDS, "1337;istio");
    assertThatThrownBy(() -> SidecarPorts.read(name -> Optional.ofNullable(bad.get(name))))
        .hasMessageContaining(
            "CAPGATE_EXEMPT_UIDS (--exempt-uids) must be comma-separated uids, got '1337;istio'");
  }

  private static java.util.SortedSet<Integer> uids(Integer... uids) {
    return new java.util.TreeSet<>(java.util.List.of(uids));
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
