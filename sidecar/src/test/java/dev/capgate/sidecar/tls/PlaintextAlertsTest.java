package dev.capgate.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class PlaintextAlertsTest {
  @Test
  void a_plaintext_fatal_alert_after_the_compatibility_change_cipher_spec_is_named() {
    // What OpenSSL 3 sends when it refuses the server's certificate under TLS 1.3.
    byte[] flight = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x30};
    assertThat(PlaintextAlerts.fatalAlert(Unpooled.wrappedBuffer(flight))).isEqualTo("unknown_ca");
  }

  @Test
  void encrypted_records_warnings_and_partial_headers_are_not_alerts() {
    byte[] appData = {0x17, 0x03, 0x03, 0x00, 0x02, 0x02, 0x30};
    assertThat(PlaintextAlerts.fatalAlert(Unpooled.wrappedBuffer(appData))).isNull();
    byte[] warning = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00};
    assertThat(PlaintextAlerts.fatalAlert(Unpooled.wrappedBuffer(warning))).isNull();
    byte[] partial = {0x15, 0x03, 0x03};
    assertThat(PlaintextAlerts.fatalAlert(Unpooled.wrappedBuffer(partial))).isNull();
  }
}
