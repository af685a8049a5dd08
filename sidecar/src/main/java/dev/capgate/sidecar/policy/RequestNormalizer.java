package dev.capgate.sidecar.policy;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Invariant 5: policy judges the request in one canonical form, and exactly that form is forwarded.
 * Whatever two HTTP implementations could read differently is refused rather than guessed at.
 *
 * <p>Reasons (the message of {@link RejectedRequestException}):
 *
 * <ul>
 *   <li>{@code bad-method}: not an upper-case RFC 9110 token; {@code connect-not-allowed}: CONNECT
 *       (no tunnels)
 *   <li>{@code cl-and-te}, {@code bad-content-length}, {@code bad-transfer-encoding}: see {@link
 *       MessageFraming}
 *   <li>{@code missing-host}; {@code duplicate-host}: several Host lines; {@code ambiguous-host}:
 *       Host and {@code :authority} disagree; {@code bad-host}; {@code userinfo}: {@code user@} in
 *       an authority; {@code host-port-mismatch}: the Host port (or the scheme's default) is not
 *       the destination port; {@code host-sni-mismatch}: the Host name is not the TLS SNI name
 *   <li>{@code absolute-form-mismatch}: an absolute-form target naming another authority or scheme
 *   <li>{@code bad-path}, {@code bad-characters}: see {@link PathNormalizer}; also {@code OPTIONS
 *       *}, any target that is neither origin- nor absolute-form, and a {@code #} anywhere
 * </ul>
 *
 * <p>Header fields that ask the upstream to act on another method or path than the request line's
 * ({@link #overrideHeader}) make policy's judgement meaningless: such requests are refused ({@code
 * override-header}, a 403). Fields that describe the client's network hop ({@link #isEdgeHeader})
 * are not forwarded: the sidecar is the edge, and anything the agent wrote there is a claim nobody
 * checked.
 */
public final class RequestNormalizer {
  static final String BAD_METHOD = "bad-method";
  static final String CONNECT_NOT_ALLOWED = "connect-not-allowed";
  static final String MISSING_HOST = "missing-host";
  static final String DUPLICATE_HOST = "duplicate-host";
  static final String AMBIGUOUS_HOST = "ambiguous-host";
  static final String HOST_PORT_MISMATCH = "host-port-mismatch";
  static final String HOST_SNI_MISMATCH = "host-sni-mismatch";
  static final String ABSOLUTE_FORM_MISMATCH = "absolute-form-mismatch";

  /** The reason (and error) for a request carrying a method or URL override. */
  public static final String OVERRIDE_HEADER = "override-header";

  /**
   * Fields frameworks and gateways honour to change the method or the target (Rails, Laravel,
   * Symfony, ASP.NET, Express method-override, Google APIs; IIS and Zend for the URL ones).
   */
  private static final Set<String> OVERRIDE_HEADERS =
      Set.of(
          "x-http-method-override",
          "x-http-method",
          "x-method-override",
          "x-original-url",
          "x-original-uri",
          "x-rewrite-url",
          "x-original-method");

  private static final int HTTPS_PORT = 443;
  private static final int HTTP_PORT = 80;

  private RequestNormalizer() {}

  /**
   * @param tlsServerName the SNI when the request came over intercepted TLS, else null
   * @param destinationPort the connection's original destination port
   * @throws RejectedRequestException with a short machine-readable reason (ambiguous request)
   */
  public static NormalizedRequest normalize(
      RawRequest raw, String tlsServerName, int destinationPort) {
    String method = method(raw.method());
    MessageFraming.check(raw.contentLength(), raw.transferEncoding(), raw.http2());
    boolean tls = tlsServerName != null;
    int defaultPort = tls ? HTTPS_PORT : HTTP_PORT;
    Authority authority = authority(raw, defaultPort);
    if (authority.portOr(defaultPort) != destinationPort) {
      throw new RejectedRequestException(HOST_PORT_MISMATCH);
    }
    if (tls && !authority.host().equals(HostNames.normalize(tlsServerName))) {
      throw new RejectedRequestException(HOST_SNI_MISMATCH);
    }

    String target = raw.target();
    if (target == null || target.isEmpty()) {
      throw new RejectedRequestException(PathNormalizer.BAD_PATH);
    }
    if (target.indexOf('#') >= 0) {
      throw new RejectedRequestException(PathNormalizer.BAD_CHARACTERS);
    }
    String pathAndQuery;
    if (target.charAt(0) == '/') {
      pathAndQuery = target;
    } else if (!raw.http2() && hasHttpScheme(target)) {
      pathAndQuery = absoluteForm(target, authority, tls);
    } else {
      // "*" (OPTIONS *), authority-form, relative paths, and absolute-form in an h2 :path.
      throw new RejectedRequestException(PathNormalizer.BAD_PATH);
    }

    int q = pathAndQuery.indexOf('?');
    String rawPath = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
    String query = q < 0 ? null : pathAndQuery.substring(q + 1);
    PathNormalizer.Result path = PathNormalizer.normalize(rawPath);
    if (query != null) {
      checkQuery(query);
    }
    String forwarded = query == null ? path.target() : path.target() + "?" + query;
    return new NormalizedRequest(
        method, authority.host(), destinationPort, path.path(), forwarded, query, tls);
  }

  /**
   * The first header field (lower-case name) that overrides the request's method or target, or
   * null: such a request is refused with {@link #OVERRIDE_HEADER}. Allocation-free unless found.
   */
  public static String overrideHeader(Iterable<Map.Entry<String, String>> headers) {
    for (Map.Entry<String, String> h : headers) {
      String name = h.getKey();
      if (name.length() >= 13 && (name.charAt(0) == 'x' || name.charAt(0) == 'X')) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (OVERRIDE_HEADERS.contains(lower)) {
          return lower;
        }
      }
    }
    return null;
  }

  /**
   * Whether a field (lower-case name) overrides the request's method or target ({@link
   * #overrideHeader}); request trailers drop the same fields.
   */
  public static boolean isOverrideHeader(String lowerName) {
    return OVERRIDE_HEADERS.contains(lowerName);
  }

  /**
   * Whether a field (its name in any letter case) describes the client's hop: {@code Forwarded},
   * {@code X-Forwarded-*}, {@code X-Real-IP}. The sidecar strips them from every request it
   * forwards, asking for every header on the names the codecs made (no lower-cased copy).
   */
  public static boolean isEdgeHeader(CharSequence name) {
    int n = name.length();
    return (n == 9 && startsWithIgnoreCase(name, "forwarded"))
        || (n >= 12 && startsWithIgnoreCase(name, "x-forwarded-"))
        || (n == 9 && startsWithIgnoreCase(name, "x-real-ip"));
  }

  /** Whether {@code text} begins with {@code lowerPrefix} (ASCII letters in any case). */
  private static boolean startsWithIgnoreCase(CharSequence text, String lowerPrefix) {
    if (text.length() < lowerPrefix.length()) {
      return false;
    }
    for (int i = 0; i < lowerPrefix.length(); i++) {
      char c = text.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        c = (char) (c + ('a' - 'A'));
      }
      if (c != lowerPrefix.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static String method(String method) {
    if (method == null || method.isEmpty()) {
      throw new RejectedRequestException(BAD_METHOD);
    }
    for (int i = 0; i < method.length(); i++) {
      char c = method.charAt(i);
      if (!isTchar(c) || (c >= 'a' && c <= 'z')) {
        throw new RejectedRequestException(BAD_METHOD);
      }
    }
    if (method.equals("CONNECT")) {
      throw new RejectedRequestException(CONNECT_NOT_ALLOWED);
    }
    return method;
  }

  /**
   * The one authority of the request: Host and :authority must name the same host and port when
   * both are present.
   */
  private static Authority authority(RawRequest raw, int defaultPort) {
    List<String> hosts = raw.hostHeaders() == null ? List.of() : raw.hostHeaders();
    if (hosts.size() > 1) {
      throw new RejectedRequestException(DUPLICATE_HOST);
    }
    Authority host = hosts.isEmpty() ? null : Authority.parse(hosts.getFirst());
    Authority pseudo = raw.authority() == null ? null : Authority.parse(raw.authority());
    if (host != null
        && pseudo != null
        && (!host.host().equals(pseudo.host())
            || host.portOr(defaultPort) != pseudo.portOr(defaultPort))) {
      throw new RejectedRequestException(AMBIGUOUS_HOST);
    }
    if (pseudo != null) {
      return pseudo;
    }
    if (host == null) {
      throw new RejectedRequestException(MISSING_HOST);
    }
    return host;
  }

  private static boolean hasHttpScheme(String target) {
    return target.regionMatches(true, 0, "http://", 0, 7)
        || target.regionMatches(true, 0, "https://", 0, 8);
  }

  /**
   * {@code scheme://authority[/path][?query]}: the scheme must be the connection's and the
   * authority the Host's (same host, same effective port).
   *
   * @return the path and query, "/" when the path is empty
   */
  private static String absoluteForm(String target, Authority authority, boolean tls) {
    boolean https = target.charAt(4) == 's' || target.charAt(4) == 'S';
    int start = https ? 8 : 7;
    int end = start;
    while (end < target.length() && target.charAt(end) != '/' && target.charAt(end) != '?') {
      end++;
    }
    Authority named = Authority.parse(target.substring(start, end));
    int defaultPort = https ? HTTPS_PORT : HTTP_PORT;
    if (https != tls
        || !named.host().equals(authority.host())
        || named.portOr(defaultPort) != authority.portOr(defaultPort)) {
      throw new RejectedRequestException(ABSOLUTE_FORM_MISMATCH);
    }
    if (end == target.length()) {
      return "/";
    }
    return target.charAt(end) == '?' ? "/" + target.substring(end) : target.substring(end);
  }

  /**
   * The query is forwarded as sent, so it only has to be safe to forward: RFC 3986 query
   * characters, well-formed escapes, plus '[' and ']' which common clients send unescaped.
   */
  private static void checkQuery(String query) {
    for (int i = 0; i < query.length(); i++) {
      char c = query.charAt(i);
      if (c == '%') {
        if (i + 2 >= query.length()
            || !PathNormalizer.isHex(query.charAt(i + 1))
            || !PathNormalizer.isHex(query.charAt(i + 2))) {
          throw new RejectedRequestException(PathNormalizer.BAD_CHARACTERS);
        }
        i += 2;
      } else if (!PathNormalizer.isPchar(c) && c != '/' && c != '?' && c != '[' && c != ']') {
        throw new RejectedRequestException(PathNormalizer.BAD_CHARACTERS);
      }
    }
  }

  private static boolean isTchar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
