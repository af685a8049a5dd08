package dev.capgate.sidecar.policy;

import java.util.Locale;

/**
 * A parsed {@code host[:port]} from a Host header, {@code :authority} or an absolute-form target.
 * The host is canonical (see {@link HostNames}); IPv6 literals keep their brackets, lower-cased.
 *
 * @param port the explicit port, or -1 when none was given
 */
record Authority(String host, int port) {
  static final String BAD_HOST = "bad-host";
  static final String USERINFO = "userinfo";

  /**
   * @throws RejectedRequestException userinfo, or bad-host for anything that is not host[:port]
   */
  static Authority parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new RejectedRequestException(BAD_HOST);
    }
    if (text.indexOf('@') >= 0) {
      throw new RejectedRequestException(USERINFO);
    }
    String host;
    int portStart;
    if (text.charAt(0) == '[') {
      int close = text.indexOf(']');
      if (close < 0) {
        throw new RejectedRequestException(BAD_HOST);
      }
      host = ipv6Literal(text.substring(1, close));
      portStart = close + 1;
    } else {
      int colon = text.indexOf(':');
      portStart = colon < 0 ? text.length() : colon;
      host = HostNames.normalize(text.substring(0, portStart));
      if (host == null) {
        throw new RejectedRequestException(BAD_HOST);
      }
    }
    if (portStart == text.length()) {
      return new Authority(host, -1);
    }
    if (text.charAt(portStart) != ':') {
      throw new RejectedRequestException(BAD_HOST);
    }
    return new Authority(host, port(text, portStart + 1));
  }

  private static String ipv6Literal(String inside) {
    if (inside.isEmpty()) {
      throw new RejectedRequestException(BAD_HOST);
    }
    for (int i = 0; i < inside.length(); i++) {
      char c = inside.charAt(i);
      if (!PathNormalizer.isHex(c) && c != ':' && c != '.') {
        // Also refuses zone ids ("%25eth0"): they name an interface of the agent's pod.
        throw new RejectedRequestException(BAD_HOST);
      }
    }
    try {
      java.net.Inet6Address.ofLiteral(inside);
    } catch (IllegalArgumentException e) {
      throw new RejectedRequestException(BAD_HOST);
    }
    return "[" + inside.toLowerCase(Locale.ROOT) + "]";
  }

  /** 1 to 5 digits, 1..65535: no sign, no spaces, no empty port. */
  private static int port(String text, int from) {
    int digits = text.length() - from;
    if (digits < 1 || digits > 5) {
      throw new RejectedRequestException(BAD_HOST);
    }
    int port = 0;
    for (int i = from; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        throw new RejectedRequestException(BAD_HOST);
      }
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) {
      throw new RejectedRequestException(BAD_HOST);
    }
    return port;
  }

  /** The port this authority means: the explicit one, else the scheme's default. */
  int portOr(int defaultPort) {
    return port < 0 ? defaultPort : port;
  }
}
