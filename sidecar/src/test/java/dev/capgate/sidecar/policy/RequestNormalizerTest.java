package dev.capgate.sidecar.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The request normalization table: what an agent may try, and what policy then sees and forwards.
 */
class RequestNormalizerTest {
  private static final String SNI = "api.github.com";

  /** An HTTP/1.1 request over intercepted TLS to api.github.com:443. */
  private static RawRequest h1(String method, String target) {
    return new RawRequest(method, target, null, List.of(SNI), null, null, false);
  }

  private static RawRequest h1(String target) {
    return h1("GET", target);
  }

  private static RawRequest withHosts(String... hosts) {
    return new RawRequest("GET", "/", null, List.of(hosts), null, null, false);
  }

  private static RawRequest framing(
      List<String> contentLength, List<String> transferEncoding, boolean http2) {
    return new RawRequest(
        "POST",
        "/",
        http2 ? SNI : null,
        http2 ? List.of() : List.of(SNI),
        contentLength,
        transferEncoding,
        http2);
  }

  private static RawRequest h2(String authority, List<String> hosts, String path) {
    return new RawRequest("GET", path, authority, hosts, null, null, true);
  }

  static Stream<Arguments> rejected() {
    return Stream.of(
        // Dot-segments that climb above the root
        Arguments.of("'..' above the root", h1("/../etc/passwd"), "bad-path"),
        Arguments.of("'%2e%2e' above the root", h1("/%2e%2e/etc/passwd"), "bad-path"),
        Arguments.of(
            "'%2E%2e/' above the root after a descent", h1("/a/%2E%2e/%2E%2e/x"), "bad-path"),
        Arguments.of("'..' climbing out in the last segment", h1("/a/../.."), "bad-path"),
        // Ambiguous or encoded separators
        Arguments.of("empty segment '//'", h1("/repos//acme"), "bad-path"),
        Arguments.of("leading '//' (scheme-relative)", h1("//evil.com/x"), "bad-path"),
        Arguments.of("encoded slash %2F", h1("/repos/acme%2Frepo-b"), "bad-path"),
        Arguments.of("encoded slash %2f", h1("/repos/acme%2frepo-b"), "bad-path"),
        Arguments.of("encoded backslash %5C", h1("/repos/acme%5Crepo-b"), "bad-path"),
        Arguments.of("raw backslash", h1("/repos/acme\\..\\repo-b"), "bad-characters"),
        Arguments.of(
            "dot-segment with a path parameter '..;'",
            h1("/repos/acme/repo-a/..;/repo-b"),
            "bad-path"),
        Arguments.of(
            "encoded dot-segment with a parameter '%2e%2e%3b'",
            h1("/repos/acme/repo-a/%2e%2e%3bx/repo-b"), "bad-path"),
        Arguments.of("'.;' segment", h1("/a/.;x/b"), "bad-path"),
        // Broken or hostile percent-encoding
        Arguments.of("bad escape %zz", h1("/a%zz"), "bad-path"),
        Arguments.of("truncated escape '%'", h1("/a%"), "bad-path"),
        Arguments.of("truncated escape '%4'", h1("/a%4"), "bad-path"),
        Arguments.of("escape with a non-ASCII digit", h1("/a%\u0661\u0662"), "bad-path"),
        Arguments.of("overlong UTF-8 slash %C0%AF", h1("/a%C0%AFb"), "bad-path"),
        Arguments.of("invalid UTF-8 %FF", h1("/a%FF"), "bad-path"),
        Arguments.of("UTF-16 surrogate in UTF-8 %ED%A0%80", h1("/a%ED%A0%80"), "bad-path"),
        Arguments.of("double encoding %252e%252e", h1("/a/%252e%252e/b"), "bad-path"),
        Arguments.of("double-encoded slash %252F", h1("/a%252Fb"), "bad-path"),
        // Characters that must never be in a path
        Arguments.of("NUL", h1("/a\u0000b"), "bad-characters"),
        Arguments.of("encoded NUL %00", h1("/a%00b"), "bad-characters"),
        Arguments.of("CR LF header injection", h1("/a\r\nX-Injected: 1"), "bad-characters"),
        Arguments.of("encoded CR LF %0d%0a", h1("/a%0d%0aX-Injected:%201"), "bad-characters"),
        Arguments.of("tab", h1("/a\tb"), "bad-characters"),
        Arguments.of("encoded tab %09", h1("/a%09b"), "bad-characters"),
        Arguments.of("space", h1("/a b"), "bad-characters"),
        Arguments.of("DEL", h1("/a\u007f"), "bad-characters"),
        Arguments.of("encoded DEL %7F", h1("/a%7F"), "bad-characters"),
        Arguments.of("encoded C1 control U+0085 (NEL)", h1("/a%C2%85"), "bad-characters"),
        Arguments.of("raw non-ASCII", h1("/caf\u00e9"), "bad-characters"),
        Arguments.of("fragment '#'", h1("/a#b"), "bad-characters"),
        Arguments.of("fragment after the query", h1("/a?b=1#c"), "bad-characters"),
        Arguments.of("raw '<' '>' quote", h1("/a<script>\""), "bad-characters"),
        Arguments.of("query with a space", h1("/a?b=c d"), "bad-characters"),
        Arguments.of("query with CR LF", h1("/a?b=c\r\nX: y"), "bad-characters"),
        Arguments.of("query with a backslash", h1("/a?b=c\\d"), "bad-characters"),
        Arguments.of("query with a bad escape", h1("/a?b=%zz"), "bad-characters"),
        // Target forms
        Arguments.of("OPTIONS *", h1("OPTIONS", "*"), "bad-path"),
        Arguments.of("relative target", h1("repos/acme"), "bad-path"),
        Arguments.of("empty target", h1(""), "bad-path"),
        Arguments.of("authority-form without CONNECT", h1("api.github.com:443"), "bad-path"),
        Arguments.of(
            "absolute-form for another host", h1("https://evil.com/x"), "absolute-form-mismatch"),
        Arguments.of(
            "absolute-form for another port",
            h1("https://api.github.com:8443/x"),
            "absolute-form-mismatch"),
        Arguments.of(
            "absolute-form with http over TLS",
            h1("http://api.github.com/x"),
            "absolute-form-mismatch"),
        Arguments.of(
            "absolute-form with userinfo", h1("https://user:pw@api.github.com/x"), "userinfo"),
        Arguments.of(
            "absolute-form hiding the host behind userinfo",
            h1("https://api.github.com@evil.com/x"),
            "userinfo"),
        Arguments.of(
            "absolute-form in an HTTP/2 :path",
            h2(SNI, List.of(), "https://api.github.com/x"),
            "bad-path"),
        // Methods
        Arguments.of("CONNECT (no tunnels)", h1("CONNECT", "/"), "connect-not-allowed"),
        Arguments.of("lower-case method", h1("get", "/"), "bad-method"),
        Arguments.of("mixed-case method", h1("Get", "/"), "bad-method"),
        Arguments.of("method with a space", h1("GET /x", "/"), "bad-method"),
        Arguments.of("method with CR LF", h1("GET\r\n", "/"), "bad-method"),
        Arguments.of("empty method", h1("", "/"), "bad-method"),
        // Host, :authority and SNI
        Arguments.of("Host different from SNI", withHosts("evil.com"), "host-sni-mismatch"),
        Arguments.of("Host a subdomain of SNI", withHosts("x.api.github.com"), "host-sni-mismatch"),
        Arguments.of(
            "Host with another port", withHosts("api.github.com:8443"), "host-port-mismatch"),
        Arguments.of("duplicate Host, same value", withHosts(SNI, SNI), "duplicate-host"),
        Arguments.of(
            "duplicate Host, different values", withHosts(SNI, "evil.com"), "duplicate-host"),
        Arguments.of("no Host at all", withHosts(), "missing-host"),
        Arguments.of("Host with userinfo", withHosts("user@api.github.com"), "userinfo"),
        Arguments.of("Host with a leading space", withHosts(" api.github.com"), "bad-host"),
        Arguments.of("Host with an underscore", withHosts("api_github.com"), "bad-host"),
        Arguments.of("Host percent-encoded", withHosts("api%2egithub.com"), "bad-host"),
        Arguments.of("Host with an empty port", withHosts("api.github.com:"), "bad-host"),
        Arguments.of("Host with a signed port", withHosts("api.github.com:+443"), "bad-host"),
        Arguments.of(
            "Host with a port out of range", withHosts("api.github.com:65536"), "bad-host"),
        Arguments.of("Host with a comma list", withHosts("api.github.com,evil.com"), "bad-host"),
        Arguments.of("empty Host", withHosts(""), "bad-host"),
        Arguments.of("IPv6 Host with a zone id", withHosts("[fe80::1%25eth0]"), "bad-host"),
        Arguments.of("IPv6 Host that is not an address", withHosts("[fe80::1::2::3]"), "bad-host"),
        Arguments.of(
            ":authority and Host disagree", h2(SNI, List.of("evil.com"), "/"), "ambiguous-host"),
        Arguments.of(
            ":authority differs from SNI", h2("evil.com", List.of(), "/"), "host-sni-mismatch"),
        Arguments.of("HTTP/2 without :authority or Host", h2(null, List.of(), "/"), "missing-host"),
        // Message framing (smuggling)
        Arguments.of(
            "Content-Length with Transfer-Encoding",
            framing(List.of("5"), List.of("chunked"), false),
            "cl-and-te"),
        Arguments.of(
            "Transfer-Encoding: chunked, identity",
            framing(null, List.of("chunked, identity"), false),
            "bad-transfer-encoding"),
        Arguments.of(
            "Transfer-Encoding with a leading space",
            framing(null, List.of(" chunked"), false),
            "bad-transfer-encoding"),
        Arguments.of(
            "Transfer-Encoding upper-case",
            framing(null, List.of("Chunked"), false),
            "bad-transfer-encoding"),
        Arguments.of(
            "Transfer-Encoding with a tab suffix",
            framing(null, List.of("chunked\t"), false),
            "bad-transfer-encoding"),
        Arguments.of(
            "Transfer-Encoding: xchunked",
            framing(null, List.of("xchunked"), false),
            "bad-transfer-encoding"),
        Arguments.of(
            "Transfer-Encoding twice",
            framing(null, List.of("chunked", "chunked"), false),
            "bad-transfer-encoding"),
        Arguments.of(
            "Transfer-Encoding: identity",
            framing(null, List.of("identity"), false),
            "bad-transfer-encoding"),
        Arguments.of(
            "Transfer-Encoding in HTTP/2",
            framing(null, List.of("chunked"), true),
            "bad-transfer-encoding"),
        Arguments.of(
            "two different Content-Length headers",
            framing(List.of("5", "6"), null, false),
            "bad-content-length"),
        Arguments.of(
            "a Content-Length list that disagrees",
            framing(List.of("5, 6"), null, false),
            "bad-content-length"),
        Arguments.of(
            "negative Content-Length", framing(List.of("-1"), null, false), "bad-content-length"),
        Arguments.of(
            "signed Content-Length", framing(List.of("+5"), null, false), "bad-content-length"),
        Arguments.of(
            "hexadecimal Content-Length",
            framing(List.of("0x10"), null, false),
            "bad-content-length"),
        Arguments.of(
            "empty Content-Length", framing(List.of(""), null, false), "bad-content-length"),
        Arguments.of(
            "empty element in a Content-Length list",
            framing(List.of("5,"), null, false),
            "bad-content-length"),
        Arguments.of(
            "Content-Length too large for a long",
            framing(List.of("99999999999999999999"), null, false),
            "bad-content-length"));
  }

  @ParameterizedTest(name = "{0} -> {2}")
  @MethodSource("rejected")
  void refuses(String description, RawRequest raw, String reason) {
    assertThatThrownBy(() -> RequestNormalizer.normalize(raw, SNI, 443))
        .isInstanceOfSatisfying(
            RejectedRequestException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  static Stream<Arguments> normalized() {
    return Stream.of(
        Arguments.of(
            "plain path", h1("/repos/acme/repo-a"), "/repos/acme/repo-a", "/repos/acme/repo-a"),
        Arguments.of("root", h1("/"), "/", "/"),
        Arguments.of(
            "'..' is resolved and forwarded resolved",
            h1("/repos/acme/repo-a/../repo-b"),
            "/repos/acme/repo-b",
            "/repos/acme/repo-b"),
        Arguments.of(
            "'%2e%2e' is resolved",
            h1("/repos/acme/repo-a/%2e%2e/repo-b"), "/repos/acme/repo-b", "/repos/acme/repo-b"),
        Arguments.of("'%2E%2e/' is resolved", h1("/a/b/%2E%2e/c"), "/a/c", "/a/c"),
        Arguments.of("half-encoded '%2E.' is resolved", h1("/a/b/%2E./c"), "/a/c", "/a/c"),
        Arguments.of("half-encoded '.%2e' is resolved", h1("/a/b/.%2e/c"), "/a/c", "/a/c"),
        Arguments.of("'/./' is removed", h1("/a/./b"), "/a/b", "/a/b"),
        Arguments.of("a trailing '..' leaves a trailing slash", h1("/a/b/.."), "/a/", "/a/"),
        Arguments.of("a trailing '.' leaves a trailing slash", h1("/a/b/."), "/a/b/", "/a/b/"),
        Arguments.of("'..' back to the root", h1("/a/.."), "/", "/"),
        Arguments.of(
            "three dots are a name, not a dot-segment", h1("/a/.../b"), "/a/.../b", "/a/.../b"),
        Arguments.of("a trailing slash is kept", h1("/repos/"), "/repos/", "/repos/"),
        Arguments.of(
            "escaped unreserved characters are decoded",
            h1("/%61pi/%7Euser"),
            "/api/~user",
            "/api/~user"),
        Arguments.of(
            "escaped reserved characters stay escaped, upper-cased",
            h1("/a%3bb"),
            "/a;b",
            "/a%3Bb"),
        Arguments.of("a raw reserved character stays raw", h1("/a;b=c"), "/a;b=c", "/a;b=c"),
        Arguments.of(
            "UTF-8 is decoded for matching and kept escaped",
            h1("/caf%c3%a9"),
            "/café",
            "/caf%C3%A9"),
        Arguments.of(
            "an escaped percent sign is one literal '%'", h1("/100%25"), "/100%", "/100%25"),
        Arguments.of(
            "the raw query is forwarded as sent",
            h1("/search?q=a%20b&x=[1]&y=/?z"),
            "/search",
            "/search?q=a%20b&x=[1]&y=/?z"),
        Arguments.of("an empty query is kept", h1("/a?"), "/a", "/a?"),
        Arguments.of(
            "absolute-form becomes origin-form",
            h1("https://api.github.com/repos?x=1"),
            "/repos",
            "/repos?x=1"),
        Arguments.of(
            "absolute-form with a capital scheme and host",
            h1("HTTPS://API.GITHUB.COM:443/repos"),
            "/repos",
            "/repos"),
        Arguments.of("absolute-form without a path", h1("https://api.github.com"), "/", "/"),
        Arguments.of(
            "absolute-form with only a query", h1("https://api.github.com?x=1"), "/", "/?x=1"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("normalized")
  void normalizes(String description, RawRequest raw, String path, String target) {
    NormalizedRequest request = RequestNormalizer.normalize(raw, SNI, 443);

    assertThat(request.path()).isEqualTo(path);
    assertThat(request.target()).isEqualTo(target);
    assertThat(request.host()).isEqualTo(SNI);
    assertThat(request.port()).isEqualTo(443);
  }

  static Stream<Arguments> hosts() {
    return Stream.of(
        Arguments.of(
            "upper-case Host is lower-cased",
            withHosts("API.GitHub.COM"),
            "api.github.com",
            443,
            SNI),
        Arguments.of(
            "trailing-dot Host loses the dot",
            withHosts("api.github.com."),
            "api.github.com",
            443,
            SNI),
        Arguments.of(
            "upper-case trailing-dot SNI matches",
            withHosts("api.github.com"),
            "api.github.com",
            443,
            "API.GITHUB.COM."),
        Arguments.of(
            "Host with the default port",
            withHosts("api.github.com:443"),
            "api.github.com",
            443,
            SNI),
        Arguments.of(
            "Host with the destination's non-default port",
            withHosts("api.github.com:8443"),
            "api.github.com",
            8443,
            SNI),
        Arguments.of(
            "plaintext Host without port on 80", withHosts("example.org"), "example.org", 80, null),
        Arguments.of(
            "plaintext Host with :80", withHosts("example.org:80"), "example.org", 80, null),
        Arguments.of(
            "IPv6 literal Host over plaintext",
            withHosts("[FD00::1]:8080"),
            "[fd00::1]",
            8080,
            null),
        Arguments.of(
            "HTTP/2 :authority alone",
            h2("api.github.com", List.of(), "/"),
            "api.github.com",
            443,
            SNI),
        Arguments.of(
            "HTTP/2 :authority and an equal Host",
            h2("api.github.com", List.of("API.github.com:443"), "/"),
            "api.github.com",
            443,
            SNI),
        Arguments.of(
            "HTTP/2 Host without :authority",
            h2(null, List.of("api.github.com"), "/"),
            "api.github.com",
            443,
            SNI));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hosts")
  void normalizes_hosts(String description, RawRequest raw, String host, int port, String sni) {
    NormalizedRequest request = RequestNormalizer.normalize(raw, sni, port);

    assertThat(request.host()).isEqualTo(host);
    assertThat(request.port()).isEqualTo(port);
    assertThat(request.tls()).isEqualTo(sni != null);
  }

  static Stream<Arguments> plaintextRejected() {
    return Stream.of(
        Arguments.of(
            "plaintext Host without port on 8080",
            withHosts("example.org"),
            8080,
            "host-port-mismatch"),
        Arguments.of(
            "plaintext Host with :443 on 80",
            withHosts("example.org:443"),
            80,
            "host-port-mismatch"),
        Arguments.of(
            "absolute-form https on a plaintext connection",
            new RawRequest(
                "GET", "https://example.org/", null, List.of("example.org"), null, null, false),
            80,
            "absolute-form-mismatch"));
  }

  @ParameterizedTest(name = "{0} -> {3}")
  @MethodSource("plaintextRejected")
  void refuses_plaintext(String description, RawRequest raw, int port, String reason) {
    assertThatThrownBy(() -> RequestNormalizer.normalize(raw, null, port))
        .isInstanceOfSatisfying(
            RejectedRequestException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  static Stream<Arguments> accepted_framing() {
    return Stream.of(
        Arguments.of("one Content-Length", framing(List.of("5"), null, false)),
        Arguments.of(
            "identical duplicate Content-Length headers", framing(List.of("5", "5"), null, false)),
        Arguments.of("an identical Content-Length list", framing(List.of("5, 5"), null, false)),
        Arguments.of("Content-Length with leading zeros", framing(List.of("007"), null, false)),
        Arguments.of("Transfer-Encoding: chunked", framing(null, List.of("chunked"), false)),
        Arguments.of("HTTP/2 with Content-Length", framing(List.of("5"), null, true)),
        Arguments.of("no body headers", framing(null, null, false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("accepted_framing")
  void accepts_unambiguous_framing(String description, RawRequest raw) {
    assertThat(RequestNormalizer.normalize(raw, SNI, 443).method()).isEqualTo("POST");
  }

  @org.junit.jupiter.api.Test
  void keeps_the_raw_query_apart() {
    NormalizedRequest request = RequestNormalizer.normalize(h1("/a?x=%41"), SNI, 443);

    assertThat(request.query()).isEqualTo("x=%41");
    assertThat(RequestNormalizer.normalize(h1("/a"), SNI, 443).query()).isNull();
  }

  // ------------------------------------------------------------------ issue 11: overrides and edge
  // fields

  @Test
  void method_and_url_overrides_are_found_in_any_letter_case() {
    for (String name :
        List.of(
            "X-HTTP-Method-Override",
            "x-http-method",
            "X-Method-Override",
            "X-Original-URL",
            "x-rewrite-url",
            "X-Original-Method",
            "X-Original-URI")) {
      assertThat(
              RequestNormalizer.overrideHeader(
                  List.of(Map.entry("Accept", "*/*"), Map.entry(name, "DELETE"))))
          .as(name)
          .isEqualTo(name.toLowerCase(java.util.Locale.ROOT));
    }
    assertThat(
            RequestNormalizer.overrideHeader(
                List.of(
                    Map.entry("X-Request-Id", "1"),
                    Map.entry("X-Http-Methods", "x"),
                    Map.entry("Accept", "*/*"))))
        .isNull();
  }

  @Test
  void forwarding_fields_are_edge_fields() {
    assertThat(
            List.of(
                "forwarded",
                "x-forwarded-for",
                "x-forwarded-host",
                "x-forwarded-proto",
                "x-real-ip"))
        .allMatch(RequestNormalizer::isEdgeHeader);
    assertThat(List.of("x-forwarded", "accept", "x-request-id"))
        .noneMatch(RequestNormalizer::isEdgeHeader);
  }
}
