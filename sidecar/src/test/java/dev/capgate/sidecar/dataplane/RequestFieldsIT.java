package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static dev.capgate.sidecar.dataplane.AgentCurl.body;
import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.bearer;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, request fields an upstream could act on behind policy's back, on real components:
 * request trailers (HTTP/1.1 chunked trailer section, HTTP/2 trailing HEADERS) reach an upstream
 * that logs the raw request it received (see {@code RawRequestRecorder}); method and URL overrides
 * are refused; forwarding fields are stripped.
 */
class RequestFieldsIT {
  private static final String SECRET = "ghp_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));
  private static final String USER = "alice@example.com";

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  private static String ca;

  @BeforeAll
  static void startPod() {
    VaultKv vault = new VaultKv().put("github/" + USER, "token", SECRET);
    pod = DataPlanePod.start("RequestFieldsIT", vault.address());
    pod.startSidecar(
        SessionSpecs.session("request-fields")
            .user(USER)
            .credential(bearer("github", vault.path("github/{{user}}"), "token"))
            .egress(
                rule("github-api")
                    .hosts("api.github.test")
                    .methods(GET, POST)
                    .paths("/repos/**")
                    .credential("github"),
                rule("raw-recorder")
                    .hosts("api.github.test")
                    .ports(8446)
                    .methods(POST)
                    .paths("/upload/**")
                    .credential("github"))
            .json(),
        vault.readerToken(),
        List.of());
    ca = pod.podCaCert().toString();
  }

  // ------------------------------------------------------------------ trailers

  @Test
  void an_http1_authorization_trailer_never_reaches_the_upstream() {
    Command.Result r =
        pod.asAgent(
            "python3",
            "-c",
            """
        import socket, ssl
        ctx = ssl.create_default_context(cafile='%s')
        ctx.set_alpn_protocols(['http/1.1'])
        s = ctx.wrap_socket(socket.create_connection(('api.github.test', 8446), timeout=15), server_hostname='api.github.test')
        s.sendall(b'POST /upload/h1 HTTP/1.1\\r\\nHost: api.github.test:8446\\r\\nConnection: close\\r\\nTransfer-Encoding: chunked\\r\\n'
                  b'Trailer: Authorization, Cookie, Host, X-Checksum\\r\\n\\r\\n'
                  b'5\\r\\nhello\\r\\n0\\r\\nAuthorization: Bearer agent-trailer-h1\\r\\nCookie: session=agent-trailer-h1\\r\\n'
                  b'Host: evil.test\\r\\nX-Checksum: sha256-h1\\r\\n\\r\\n')
        buf = b''
        while True:
            data = s.recv(65536)
            if not data:
                break
            buf += data
        print(buf.split(b'\\r\\n')[0].decode())
        """
                .formatted(ca));
    assertThat(r.stdout()).as(r.all()).startsWith("HTTP/1.1 200");
    JsonObject raw = UpstreamLog.lastRawRequest(pod, "POST /upload/h1 HTTP/1.1");
    assertThat(pairs(raw.getJsonArray("trailers"))).containsExactly("x-checksum: sha256-h1");
    assertThat(pairs(raw.getJsonArray("headers"))).contains("authorization: Bearer " + SECRET);
    assertThat(raw.encode()).doesNotContain("agent-trailer-h1").doesNotContain("evil.test");
    assertThat(raw.getLong("bodyLength")).isEqualTo(5);
    assertThat(pod.log("sidecar.log"))
        .contains("request-trailer-dropped: authorization,cookie,host");
  }

  @Test
  void an_http2_authorization_trailer_never_reaches_the_upstream() throws Exception {
    Path data = pod.dir().resolve("h2-body.txt");
    Files.writeString(data, "hello over h2");
    data.toFile().setReadable(true, false);
    // No content-length: the sidecar forwards a chunked body, whose trailer section could carry the
    // trailers.
    Command.Result r =
        pod.asAgent(
            "nghttp",
            "-n",
            "-s",
            "--no-content-length",
            "-d",
            data.toString(),
            "--trailer",
            "authorization: Bearer agent-trailer-h2",
            "--trailer",
            "cookie: session=agent-trailer-h2",
            "--trailer",
            "x-checksum: sha256-h2",
            "https://api.github.test:8446/upload/h2");
    assertThat(r.exitCode()).as(r.all()).isZero();
    JsonObject raw = UpstreamLog.lastRawRequest(pod, "POST /upload/h2 HTTP/1.1");
    assertThat(pairs(raw.getJsonArray("trailers"))).containsExactly("x-checksum: sha256-h2");
    assertThat(pairs(raw.getJsonArray("headers"))).contains("authorization: Bearer " + SECRET);
    assertThat(raw.encode()).doesNotContain("agent-trailer-h2");
    assertThat(raw.getLong("bodyLength")).isEqualTo(13);
  }

  // ------------------------------------------------------------------ overrides and forwarding
  // fields

  @Test
  void method_and_url_overrides_are_refused_with_a_403_over_http1_and_http2() {
    for (String http : List.of("--http1.1", "--http2")) {
      for (String header :
          List.of(
              "X-HTTP-Method-Override: DELETE",
              "X-Original-URL: /admin/delete-all",
              "x-method-override: PUT",
              "X-Rewrite-URL: /admin")) {
        String path =
            "/repos/acme/override-"
                + http.substring(2)
                + "-"
                + header.substring(0, header.indexOf(':'));
        Command.Result r = curl(http, "-H", header, "https://api.github.test" + path);
        assertThat(status(r)).as(header + " " + http + "\n" + r.all()).isEqualTo(403);
        JsonObject denial = new JsonObject(body(r));
        assertThat(denial.getString("error")).isEqualTo("override-header");
        assertThat(denial.getString("rule")).isEqualTo("github-api");
        assertThat(denial.getString("requestId")).isNotBlank();
        assertThat(denial.getString("detail"))
            .contains(header.substring(0, header.indexOf(':')).toLowerCase());
        assertThat(pod.log("upstream.log")).doesNotContain(path);
      }
    }
    assertThat(pod.log("sidecar.log"))
        .contains(
            "\"reason\":\"override-header: x-http-method-override\"",
            "\"reason\":\"override-header: x-original-url\"");
  }

  @Test
  void forwarding_fields_the_agent_wrote_are_stripped() {
    Command.Result r =
        curl(
            "-H",
            "X-Forwarded-For: 10.9.9.9",
            "-H",
            "X-Forwarded-Host: evil.test",
            "-H",
            "Forwarded: for=10.9.9.9;host=evil.test",
            "-H",
            "X-Real-IP: 10.9.9.9",
            "-H",
            "X-Request-Id: kept",
            "https://api.github.test/repos/acme/forwarded");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    JsonObject saw = UpstreamLog.lastRequest(pod, "/repos/acme/forwarded");
    List<String> names =
        saw.getJsonArray("headers").stream()
            .map(JsonArray.class::cast)
            .map(h -> h.getString(0))
            .toList();
    assertThat(names)
        .contains("x-request-id")
        .doesNotContain("x-forwarded-for", "x-forwarded-host", "forwarded", "x-real-ip");
  }

  // ------------------------------------------------------------------ helpers

  private static Command.Result curl(String... args) {
    return AgentCurl.trusting(pod, ca, args);
  }

  private static List<String> pairs(JsonArray fields) {
    return fields.stream()
        .map(JsonArray.class::cast)
        .map(f -> f.getString(0) + ": " + f.getString(1))
        .toList();
  }
}
