package dev.capgate.sidecar.http;

import dev.capgate.sidecar.credentials.InjectedHeader;
import dev.capgate.sidecar.policy.RequestNormalizer;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Request trailers (HTTP/1.1 chunked trailer fields, an HTTP/2 trailing HEADERS frame) go on to the
 * upstream without the fields that must never come after the body (issue 11): a server that merges
 * trailers into its headers would otherwise read an {@code Authorization} the agent wrote instead
 * of the one the sidecar injected, or a Host, framing or override it never saw policy judge.
 *
 * <p>Dropped: the header names the exchange's rule injects, and the fields RFC 9110 §6.5.1 rules
 * out of trailers — message framing ({@code Transfer-Encoding}, {@code Content-Length}, {@code
 * Trailer}, {@code TE}, connection options), routing ({@code Host}, forwarding fields), request
 * modifiers and controls (conditionals, {@code Range}, {@code Expect}, {@code Cache-Control},
 * {@code Max-Forwards}, method/URL overrides), authentication ({@code Authorization}, {@code
 * Proxy-Authorization}, {@code Cookie}, {@code Set-Cookie}, the {@code *-Authenticate} challenges)
 * and content processing ({@code Content-Type}, {@code Content-Encoding}, {@code Content-Range},
 * {@code Content-Location}). The rest (checksums, {@code grpc-status}-style fields, application
 * trailers) is kept.
 *
 * <p>Dropping is always possible: the sidecar writes the trailer section itself, after the body it
 * streamed, so no request is refused for its trailers.
 */
final class RequestTrailers {
  private static final Set<String> FORBIDDEN =
      Set.of(
          // framing and connection
          "transfer-encoding",
          "content-length",
          "trailer",
          "te",
          "connection",
          "keep-alive",
          "proxy-connection",
          "upgrade",
          // routing
          "host",
          "forwarded",
          "x-real-ip",
          "via",
          "max-forwards",
          // request modifiers and controls
          "cache-control",
          "pragma",
          "expect",
          "range",
          "if-match",
          "if-none-match",
          "if-modified-since",
          "if-unmodified-since",
          "if-range",
          // authentication and state
          "authorization",
          "proxy-authorization",
          "www-authenticate",
          "proxy-authenticate",
          "cookie",
          "set-cookie",
          // content processing
          "content-type",
          "content-encoding",
          "content-range",
          "content-location");

  private RequestTrailers() {}

  /**
   * @param dropped receives the lower-case names of dropped fields (for the audit line)
   * @return {@code trailers} itself when nothing is dropped, else a filtered copy
   */
  static HttpHeaders filter(
      HttpHeaders trailers, List<InjectedHeader> injected, List<String> dropped) {
    if (trailers.isEmpty()) {
      return trailers;
    }
    boolean drop = false;
    for (Map.Entry<String, String> t : trailers) {
      if (forbidden(t.getKey(), injected)) {
        drop = true;
        break;
      }
    }
    if (!drop) {
      return trailers;
    }
    HttpHeaders kept = new DefaultHttpHeaders();
    for (Map.Entry<String, String> t : trailers) {
      if (forbidden(t.getKey(), injected)) {
        String lower = t.getKey().toLowerCase(Locale.ROOT);
        lower = lower.startsWith("x-forwarded-") ? "x-forwarded-*" : lower;
        if (!dropped.contains(lower)) {
          dropped.add(lower);
        }
      } else {
        kept.add(t.getKey(), t.getValue());
      }
    }
    return kept;
  }

  static HttpHeaders filter(HttpHeaders trailers, List<InjectedHeader> injected) {
    return filter(trailers, injected, new ArrayList<>(1));
  }

  private static boolean forbidden(String name, List<InjectedHeader> injected) {
    String lower = name.toLowerCase(Locale.ROOT);
    if (FORBIDDEN.contains(lower)
        // method and URL overrides: the fields refused as request headers
        || RequestNormalizer.isOverrideHeader(lower)
        || lower.startsWith("x-forwarded-")
        || lower.startsWith(":")) {
      return true;
    }
    for (InjectedHeader h : injected) {
      if (h.name().equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }
}
