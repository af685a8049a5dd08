package dev.capgate.sidecar.intercept;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Fatal TLS alerts for connections refused before any handshake: where HTTP 403 is impossible (no
 * certificate the agent would trust for a name policy refuses), the alert is the clear error.
 */
final class TlsAlerts {
  private static final int ACCESS_DENIED = 49;
  private static final int INTERNAL_ERROR = 80;

  private TlsAlerts() {}

  static ByteBuf accessDenied() {
    return alert(ACCESS_DENIED);
  }

  static ByteBuf internalError() {
    return alert(INTERNAL_ERROR);
  }

  /** One alert record: type 21, TLS 1.2 record version (also what TLS 1.3 uses), level fatal. */
  private static ByteBuf alert(int description) {
    return Unpooled.wrappedBuffer(new byte[] {21, 3, 3, 0, 2, 2, (byte) description});
  }
}
