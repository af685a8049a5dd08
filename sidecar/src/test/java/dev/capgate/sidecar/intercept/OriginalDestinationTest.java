package dev.capgate.sidecar.intercept;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class OriginalDestinationTest {
  @Test
  void parses_sockaddr_in() {
    ByteBuffer raw = ByteBuffer.allocate(16);
    raw.order(ByteOrder.nativeOrder()).putShort(0, (short) 2);
    raw.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) 443);
    raw.put(4, (byte) 198).put(5, (byte) 18).put(6, (byte) 0).put(7, (byte) 2);
    assertThat(OriginalDestination.parse(raw)).contains(new InetSocketAddress("198.18.0.2", 443));
  }

  @Test
  void parses_sockaddr_in6() {
    ByteBuffer raw = ByteBuffer.allocate(28);
    raw.order(ByteOrder.nativeOrder()).putShort(0, (short) 10);
    raw.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) 8443);
    byte[] addr = new byte[16];
    addr[0] = (byte) 0xfd;
    addr[15] = 2;
    raw.put(8, addr);
    assertThat(OriginalDestination.parse(raw)).contains(new InetSocketAddress("fd00::2", 8443));
  }

  @Test
  void an_unknown_family_is_no_destination() {
    assertThat(OriginalDestination.parse(ByteBuffer.allocate(16))).isEmpty();
  }
}
