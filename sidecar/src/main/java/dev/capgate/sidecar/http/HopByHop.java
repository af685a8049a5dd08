package dev.capgate.sidecar.http;

import dev.capgate.sidecar.policy.RequestNormalizer;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Headers that describe one hop (RFC 9110 §7.6.1) and so never cross the proxy, plus those the
 * sidecar always sets itself (Host, framing). Copying is done by exclusion of these names.
 */
final class HopByHop {
  private static final Set<AsciiString> ALWAYS =
      Set.of(
          HttpHeaderNames.CONNECTION,
          HttpHeaderNames.KEEP_ALIVE,
          AsciiString.cached("proxy-connection"),
          HttpHeaderNames.TE,
          HttpHeaderNames.TRAILER,
          HttpHeaderNames.TRANSFER_ENCODING,
          HttpHeaderNames.UPGRADE,
          HttpHeaderNames.PROXY_AUTHORIZATION,
          HttpHeaderNames.PROXY_AUTHENTICATE,
          // Set by the sidecar from what it forwards, never copied from the agent:
          HttpHeaderNames.HOST,
          HttpHeaderNames.CONTENT_LENGTH,
          HttpHeaderNames.EXPECT);

  /**
   * {@link #ALWAYS} as plain lower-case strings: looked up for every header of every request and
   * response, where wrapping the name in an AsciiString (a copy) for the lookup was a per-header
   * allocation on the hot path.
   */
  private static final Set<String> ALWAYS_NAMES =
      ALWAYS.stream().map(AsciiString::toString).collect(Collectors.toUnmodifiableSet());

  /** Netty's HTTP/2 ⇄ HTTP/1 conversion adds these; they describe the agent's hop. */
  private static final String HTTP2_EXTENSION_PREFIX = "x-http2-";

  private HopByHop() {}

  /**
   * Copies {@code from} into {@code to} without hop-by-hop headers and those named by Connection.
   */
  static void copyEndToEnd(HttpHeaders from, HttpHeaders to) {
    copy(from, to, false);
  }

  /**
   * As {@link #copyEndToEnd}, for a request the sidecar forwards: also without the fields that
   * describe the agent's hop ({@code Forwarded}, {@code X-Forwarded-*}, {@code X-Real-IP}), which
   * the sidecar, as the edge, does not vouch for.
   */
  static void copyRequestHeaders(HttpHeaders from, HttpHeaders to) {
    copy(from, to, true);
  }

  private static void copy(HttpHeaders from, HttpHeaders to, boolean request) {
    Set<String> named = connectionNamed(from);
    from.forEach(
        entry -> {
          String name = entry.getKey();
          String lower = name.toLowerCase(Locale.ROOT);
          if (ALWAYS_NAMES.contains(lower)
              || named.contains(lower)
              || lower.startsWith(HTTP2_EXTENSION_PREFIX)
              || lower.startsWith(":")
              || (request && RequestNormalizer.isEdgeHeader(lower))) {
            return;
          }
          to.add(name, entry.getValue());
        });
  }

  private static Set<String> connectionNamed(HttpHeaders headers) {
    List<String> values = headers.getAll(HttpHeaderNames.CONNECTION);
    if (values.isEmpty()) {
      return Set.of();
    }
    Set<String> names = new HashSet<>();
    for (String value : values) {
      for (String token : value.split(",")) {
        String t = token.strip().toLowerCase(Locale.ROOT);
        if (!t.isEmpty()) {
          names.add(t);
        }
      }
    }
    return names;
  }
}
