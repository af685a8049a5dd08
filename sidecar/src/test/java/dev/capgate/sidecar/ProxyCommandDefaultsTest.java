package dev.capgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Defaults the pod depends on (found by the end-to-end run on a real kubelet). */
class ProxyCommandDefaultsTest {
  @Test
  void theAdminServerListensWhereTheKubeletsProbesArrive() throws Exception {
    // The kubelet probes podIP:14021/readyz; an admin server on loopback only keeps the pod
    // unready.
    assertThat(InetAddress.getByName(ProxyCommand.DEFAULT_ADMIN_ADDRESS).isAnyLocalAddress())
        .isTrue();
  }
}
