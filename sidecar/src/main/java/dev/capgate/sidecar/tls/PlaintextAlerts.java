package dev.capgate.sidecar.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.Map;

/**
 * Reads the alert an agent sends in the clear while the sidecar's TLS handshake is in progress.
 * OpenSSL clients (curl, Python, Node) that refuse the pod CA's certificate under TLS 1.3 send
 * their {@code unknown_ca} as a plaintext record, although the handshake is encrypted by then. The
 * JDK engine named it ("Unexpected plaintext alert received"); BoringSSL fails to decrypt it and
 * reports only {@code BAD_PACKET_LENGTH}. Placed in front of the {@code SslHandler}, this handler
 * looks at the record headers of what arrives (no copy, nothing consumed) and keeps the alert's
 * name for the audit line. It is removed when the handshake succeeds: by whoever sees the
 * SslHandler's completion event (HttpTermination's "tls-outcome"), since that event goes from the
 * SslHandler towards the tail, past this handler in front of it.
 */
public final class PlaintextAlerts extends ChannelInboundHandlerAdapter {
  private static final int ALERT = 21;
  private static final int HEADER = 5;
  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(10, "unexpected_message"),
          Map.entry(20, "bad_record_mac"),
          Map.entry(40, "handshake_failure"),
          Map.entry(42, "bad_certificate"),
          Map.entry(43, "unsupported_certificate"),
          Map.entry(44, "certificate_revoked"),
          Map.entry(45, "certificate_expired"),
          Map.entry(46, "certificate_unknown"),
          Map.entry(47, "illegal_parameter"),
          Map.entry(48, "unknown_ca"),
          Map.entry(49, "access_denied"),
          Map.entry(50, "decode_error"),
          Map.entry(51, "decrypt_error"),
          Map.entry(70, "protocol_version"),
          Map.entry(71, "insufficient_security"),
          Map.entry(80, "internal_error"),
          Map.entry(90, "user_canceled"),
          Map.entry(109, "missing_extension"),
          Map.entry(110, "unsupported_extension"),
          Map.entry(112, "unrecognized_name"),
          Map.entry(116, "certificate_required"),
          Map.entry(120, "no_application_protocol"));

  private String alert;

  /** The name of the plaintext fatal alert the peer sent during the handshake, or null. */
  public String alert() {
    return alert;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (alert == null && msg instanceof ByteBuf in) {
      alert = fatalAlert(in);
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * The fatal alert among the whole records at the start of {@code in} (a record header split
   * across reads ends the search: best effort, for a reason text only), or null.
   */
  static String fatalAlert(ByteBuf in) {
    int at = in.readerIndex();
    int end = in.writerIndex();
    while (end - at >= HEADER) {
      int type = in.getUnsignedByte(at);
      int length = in.getUnsignedShort(at + 3);
      if (type == ALERT && length == 2 && end - at >= HEADER + 2) {
        if (in.getUnsignedByte(at + HEADER) == 2) {
          int description = in.getUnsignedByte(at + HEADER + 1);
          return NAMES.getOrDefault(description, "alert " + description);
        }
      }
      at += HEADER + length;
    }
    return null;
  }
}
