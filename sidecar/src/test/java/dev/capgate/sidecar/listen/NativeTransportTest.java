package dev.capgate.sidecar.listen;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.Test;

/**
 * The sidecar needs epoll (SO_ORIGINAL_DST of intercepted connections) and ships its native library
 * for both Linux architectures nodes run: x86_64 and arm64 (aarch_64 in Netty's naming). Netty
 * picks the one of the JVM's architecture at load time.
 */
class NativeTransportTest {
  @Test
  void bothArchitecturesNativeLibrariesAreShipped() {
    for (String arch : new String[] {"x86_64", "aarch_64"}) {
      String library = "META-INF/native/libnetty_transport_native_epoll_" + arch + ".so";
      assertThat(getClass().getClassLoader().getResource(library))
          .as(
              "%s on the sidecar's class path (pom: netty-transport-native-epoll linux-%s)",
              library, arch)
          .isNotNull();
    }
  }

  @Test
  void epollLoadsOnThisMachine() {
    assertThat(Epoll.isAvailable()).as(String.valueOf(Epoll.unavailabilityCause())).isTrue();
  }
}
