package dev.capgate.sidecar.tls;

import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.util.Locale;

/**
 * Reads the server name (SNI) from the first bytes of a TLS connection without consuming them.
 * Hand-written rather than Netty's {@code SniHandler} so the one peek handler can tell TLS, HTTP
 * and anything else apart and hand the untouched bytes to whichever pipeline policy picks.
 *
 * <p>Handles a ClientHello split over several TLS records; refuses anything malformed, since a
 * parser that guesses is a parser an attacker can steer.
 */
public final class ClientHelloParser {
  /**
   * A ClientHello larger than this (post-quantum key shares are ~1.5 KB) is not worth waiting for.
   */
  public static final int MAX_CLIENT_HELLO = 64 * 1024;

  private static final int RECORD_HANDSHAKE = 22;
  private static final int HANDSHAKE_CLIENT_HELLO = 1;
  private static final int EXTENSION_SERVER_NAME = 0;
  private static final int NAME_TYPE_HOST = 0;

  /** What the bytes seen so far are. */
  public sealed interface Result {
    /** Could still be a ClientHello: wait for more bytes. */
    record NeedMore() implements Result {}

    /** Not TLS, or TLS too broken to route. */
    record NotTls(String why) implements Result {}

    /** A complete ClientHello; serverName is null when the client sent no SNI. */
    record ClientHello(String serverName) implements Result {}
  }

  private static final Result NEED_MORE = new Result.NeedMore();

  private ClientHelloParser() {}

  /** Whether the first byte could start a TLS handshake record. */
  public static boolean looksLikeTls(ByteBuf in) {
    return in.readableBytes() > 0 && in.getUnsignedByte(in.readerIndex()) == RECORD_HANDSHAKE;
  }

  /** Parses from {@code in.readerIndex()} without moving it. */
  public static Result parse(ByteBuf in) {
    ByteArrayOutputStream handshake = new ByteArrayOutputStream(512);
    int offset = in.readerIndex();
    int end = in.writerIndex();
    int needed = -1; // total handshake bytes once the 4-byte header is known
    while (needed < 0 || handshake.size() < needed) {
      if (end - offset < 5) {
        return NEED_MORE;
      }
      int type = in.getUnsignedByte(offset);
      int major = in.getUnsignedByte(offset + 1);
      int length = in.getUnsignedShort(offset + 3);
      if (type != RECORD_HANDSHAKE || major != 3) {
        return new Result.NotTls("not a TLS handshake record");
      }
      if (length == 0 || length > 16384 + 2048) {
        return new Result.NotTls("bad TLS record length");
      }
      if (end - offset - 5 < length) {
        return NEED_MORE;
      }
      byte[] fragment = new byte[length];
      in.getBytes(offset + 5, fragment);
      handshake.writeBytes(fragment);
      offset += 5 + length;
      if (needed < 0 && handshake.size() >= 4) {
        byte[] h = handshake.toByteArray();
        if ((h[0] & 0xff) != HANDSHAKE_CLIENT_HELLO) {
          return new Result.NotTls("first handshake message is not a ClientHello");
        }
        needed = 4 + ((h[1] & 0xff) << 16 | (h[2] & 0xff) << 8 | (h[3] & 0xff));
        if (needed > MAX_CLIENT_HELLO) {
          return new Result.NotTls("ClientHello too large");
        }
      }
    }
    return parseClientHello(handshake.toByteArray(), needed);
  }

  private static Result parseClientHello(byte[] h, int end) {
    Reader r = new Reader(h, 4, end);
    try {
      r.skip(2 + 32); // legacy_version, random
      r.skip(r.u8()); // legacy_session_id
      r.skip(r.u16()); // cipher_suites
      r.skip(r.u8()); // legacy_compression_methods
      if (r.remaining() == 0) {
        return new Result.ClientHello(null); // no extensions at all (SSLv3-era hello)
      }
      int extensionsEnd = r.pos + r.u16();
      r.requireWithin(extensionsEnd);
      String serverName = null;
      while (r.pos < extensionsEnd) {
        int type = r.u16();
        int length = r.u16();
        int next = r.pos + length;
        r.requireWithin(next);
        if (type == EXTENSION_SERVER_NAME) {
          if (serverName != null) {
            return new Result.NotTls("duplicate server_name extension");
          }
          serverName = parseServerName(new Reader(h, r.pos, next));
          if (serverName == null) {
            return new Result.NotTls("malformed server_name extension");
          }
        }
        r.pos = next;
      }
      return new Result.ClientHello(serverName);
    } catch (IndexOutOfBoundsException e) {
      return new Result.NotTls("truncated ClientHello");
    }
  }

  /** The one host_name entry, lower-cased, or null when malformed. */
  private static String parseServerName(Reader r) {
    int listEnd = r.pos + r.u16();
    r.requireWithin(listEnd);
    String host = null;
    while (r.pos < listEnd) {
      int nameType = r.u8();
      int length = r.u16();
      r.requireWithin(r.pos + length);
      if (nameType == NAME_TYPE_HOST) {
        if (host != null || length == 0 || length > 253) {
          return null;
        }
        StringBuilder name = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
          char c = (char) (r.data[r.pos + i] & 0xff);
          if (!(c >= 'a' && c <= 'z'
              || c >= 'A' && c <= 'Z'
              || c >= '0' && c <= '9'
              || c == '-'
              || c == '.')) {
            return null; // no NUL, no '_', no non-ASCII: a host name or nothing
          }
          name.append(c);
        }
        host = name.toString().toLowerCase(Locale.ROOT);
        if (host.endsWith(".")) {
          host = host.substring(0, host.length() - 1);
        }
        if (host.isEmpty() || host.startsWith(".") || host.contains("..")) {
          return null;
        }
      }
      r.pos += length;
    }
    return host;
  }

  /** Bounds-checked big-endian reads over one slice of the handshake bytes. */
  private static final class Reader {
    final byte[] data;
    final int end;
    int pos;

    Reader(byte[] data, int pos, int end) {
      this.data = data;
      this.pos = pos;
      this.end = end;
    }

    int remaining() {
      return end - pos;
    }

    int u8() {
      requireWithin(pos + 1);
      return data[pos++] & 0xff;
    }

    int u16() {
      requireWithin(pos + 2);
      int v = (data[pos] & 0xff) << 8 | (data[pos + 1] & 0xff);
      pos += 2;
      return v;
    }

    void skip(int n) {
      requireWithin(pos + n);
      pos += n;
    }

    void requireWithin(int limit) {
      if (limit > end || limit < pos) {
        throw new IndexOutOfBoundsException();
      }
    }
  }
}
