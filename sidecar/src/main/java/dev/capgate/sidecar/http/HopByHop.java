package dev.capgate.sidecar.http;

import dev.capgate.sidecar.policy.RequestNormalizer;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

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
   * {@link #ALWAYS} as an array for a scan by length then letters: looked up for every header of
   * every request and response, on the names as the codecs made them (no String or lower-cased copy
   * per header).
   */
  private static final AsciiString[] ALWAYS_NAMES = ALWAYS.toArray(AsciiString[]::new);

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

  /**
   * Adds each end-to-end field of {@code from} to {@code to} as the same name and value objects
   * (Netty's headers hold CharSequences): no String per name or value, no lower-cased copy, no
   * per-header map entry beyond the one {@code to} stores.
   */
  private static void copy(HttpHeaders from, HttpHeaders to, boolean request) {
    List<CharSequence> named = connectionNamed(from);
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = from.iteratorCharSequence();
        it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> entry = it.next();
      CharSequence name = entry.getKey();
      if (isAlways(name)
          || (!named.isEmpty() && isNamed(name, named))
          || startsWithIgnoreCase(name, HTTP2_EXTENSION_PREFIX)
          || (!name.isEmpty() && name.charAt(0) == ':')
          || (request && RequestNormalizer.isEdgeHeader(name))) {
        continue;
      }
      to.add(name, entry.getValue());
    }
  }

  private static boolean isAlways(CharSequence name) {
    for (AsciiString always : ALWAYS_NAMES) {
      if (always.length() == name.length() && always.contentEqualsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isNamed(CharSequence name, List<CharSequence> named) {
    for (CharSequence token : named) {
      if (AsciiString.contentEqualsIgnoreCase(token, name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean startsWithIgnoreCase(CharSequence name, String lowerPrefix) {
    return name.length() >= lowerPrefix.length()
        && AsciiString.regionMatches(name, true, 0, lowerPrefix, 0, lowerPrefix.length());
  }

  /**
   * The field names the Connection header lists (lower-case); none, without allocating, if none.
   */
  private static List<CharSequence> connectionNamed(HttpHeaders headers) {
    if (!headers.contains(HttpHeaderNames.CONNECTION)) {
      return List.of();
    }
    List<String> values = headers.getAll(HttpHeaderNames.CONNECTION);
    List<CharSequence> names = new ArrayList<>();
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
