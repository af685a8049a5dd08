package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.HEAD;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static dev.capgate.sidecar.dataplane.AgentCurl.body;
import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.bearer;
import static dev.capgate.sidecar.dataplane.SessionSpecs.header;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static dev.capgate.sidecar.dataplane.UpstreamLog.headerValues;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.audit.AuditSchema;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.testkit.JsonSchemas;
import dev.capgate.testkit.PrometheusLint;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The data plane on real components: the init rules in a network namespace, the sidecar jar as uid
 * 1447, HTTPS upstreams with their own CA, the real OpenBao behind a Vault KV credential, and agent
 * programs (curl, python3) as uid 1000 that try the allowed route and every bypass.
 *
 * <p>Every test makes the traffic it checks, so none depends on another having run; {@code @Order}
 * only orders the report (allowed traffic, refusals, bypasses, then what is checked across paths).
 * The sweep of every log for the secrets runs once after the last test, over the whole run ({@link
 * #no_log_line_of_the_run_contains_the_secret}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DataPlaneIT {
  private static final String SECRET = "ghp_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));
  private static final String SECOND_SECRET =
      "tk_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));
  private static final String USER = "alice@example.com";
  private static final String POD_NAME = "coding-agent-7d9f";
  private static final String POD_UID = "0b5c7d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e";
  private static final String TRACEPARENT =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  /**
   * Python that asks the pod's DNS (over UDP) for a name's A record and prints "name rcode
   * answers".
   */
  private static final String ASK_DNS =
      """
      import socket, struct, sys
      def ask(name):
          q = struct.pack('>HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0)
          q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\\0' + struct.pack('>HH', 1, 1)
          s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
          s.settimeout(5)
          s.sendto(q, ('198.18.0.2', 53))
          r = s.recv(512)
          print(name, r[3] & 0x0f, struct.unpack('>H', r[6:8])[0])
      """;

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  private static String ca;

  @BeforeAll
  static void startPod() {
    VaultKv vault =
        new VaultKv().put("github/" + USER, "token", SECRET).put("tenant", "key", SECOND_SECRET);

    pod = DataPlanePod.start("DataPlaneIT", vault.address());
    pod.startSidecar(
        session(vault),
        vault.readerToken(),
        List.of("--pod-name", POD_NAME, "--pod-namespace", "agents", "--pod-uid", POD_UID));
    ca = pod.podCaCert().toString();
  }

  static String session(VaultKv vault) {
    return SessionSpecs.session("fix-issue-42")
        .user(USER)
        .credential(bearer("github", vault.path("github/{{user}}"), "token"))
        .credential(header("missing", vault.path("nothing/here"), "token", "X-Api-Key", null))
        .credential(header("tenant", vault.path("tenant"), "key", "X-Tenant-Key", "key={{value}}"))
        .egress(
            rule("two-credentials")
                .hosts("api.github.test")
                .methods(GET)
                .paths("/both/**")
                .credentials("github", "tenant"),
            rule("github-api")
                .hosts("api.github.test")
                .methods(GET, HEAD, POST)
                .paths("/repos/acme/repo-a", "/repos/acme/repo-a/**")
                .credential("github"),
            rule("vaultless").hosts("api.github.test").paths("/vaultless/**").credential("missing"),
            rule("packages").hosts("pypi.test").passthrough(),
            rule("plain-http").hosts("plain.test").ports(80).methods(GET).paths("/allowed/**"),
            rule("raw-tcp").cidrs("198.18.0.2/32").ports(9000))
        .json();
  }

  // ------------------------------------------------------------------ allowed traffic

  @Test
  @Order(1)
  void allowed_route_reaches_the_upstream_with_the_injected_credential() {
    Command.Result r = curl("https://api.github.test/repos/acme/repo-a/issues?state=open");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    JsonObject saw = UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/issues?state=open");
    assertThat(headerValues(saw, "authorization")).containsExactly("Bearer " + SECRET);
    assertThat(headerValues(saw, "host")).containsExactly("api.github.test");
    // The echo carries the header back, but the agent reads it masked.
    assertThat(r.stdout()).doesNotContain(SECRET).contains("Bearer ****");
  }

  @Test
  @Order(2)
  void a_rule_with_two_credentials_injects_both_and_masks_both() {
    Command.Result r =
        curl("-H", "X-Tenant-Key: agent-guess", "https://api.github.test/both/items");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    JsonObject saw = UpstreamLog.lastRequest(pod, "/both/items");
    assertThat(headerValues(saw, "authorization")).containsExactly("Bearer " + SECRET);
    assertThat(headerValues(saw, "x-tenant-key")).containsExactly("key=" + SECOND_SECRET);
    assertThat(r.stdout()).doesNotContain(SECRET).doesNotContain(SECOND_SECRET);
  }

  @Test
  @Order(2)
  void the_agent_supplied_authorization_is_replaced_not_merged() {
    Command.Result r =
        curl(
            "-H",
            "Authorization: Bearer agent-made-this-up",
            "-H",
            "authorization: Basic Zm9vOmJhcg==",
            "https://api.github.test/repos/acme/repo-a?replaced=1");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    JsonObject saw = UpstreamLog.lastRequest(pod, "/repos/acme/repo-a?replaced=1");
    assertThat(headerValues(saw, "authorization")).containsExactly("Bearer " + SECRET);
  }

  @Test
  @Order(3)
  void python_urllib_works_through_the_sidecar() {
    Command.Result r =
        pod.asAgent(
            "python3",
            "-c",
            """
        import ssl, urllib.request
        ctx = ssl.create_default_context(cafile='%s')
        with urllib.request.urlopen('https://api.github.test/repos/acme/repo-a/pulls', context=ctx) as resp:
            print(resp.status)
        """
                .formatted(ca));
    assertThat(r.stdout().strip()).as(r.all()).isEqualTo("200");
  }

  @Test
  @Order(4)
  void plaintext_http_is_checked_per_request_too() {
    Command.Result ok =
        pod.asAgent("curl", "-s", "-w", "\n%{http_code}", "http://plain.test/allowed/x");
    assertThat(status(ok)).as(ok.all()).isEqualTo(200);
    Command.Result denied =
        pod.asAgent("curl", "-s", "-w", "\n%{http_code}", "http://plain.test/other");
    assertThat(status(denied)).as(denied.all()).isEqualTo(403);
    assertDenialJson(body(denied));
  }

  @Test
  @Order(5)
  void passthrough_splices_to_the_host_name_whatever_ip_the_agent_chose() {
    // The agent dials a bogus address with an allowed SNI: the sidecar resolves pypi.test itself.
    Command.Result r =
        pod.asAgent(
            "curl",
            "-s",
            "-w",
            "\n%{http_code}",
            "--cacert",
            pod.upstreamCaCert().toString(),
            "--resolve",
            "pypi.test:443:198.18.0.77",
            "https://pypi.test/simple/");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    assertThat(headerValues(UpstreamLog.lastRequest(pod, "/simple/"), "authorization")).isEmpty();
  }

  @Test
  @Order(6)
  void a_java_http_client_speaks_h2_through_the_sidecar() throws Exception {
    Path program = pod.dir().resolve("AgentClient.java");
    Files.writeString(
        program,
        """
        import java.io.FileInputStream;
        import java.net.URI;
        import java.net.http.*;
        import java.security.KeyStore;
        import java.security.cert.CertificateFactory;
        import javax.net.ssl.*;
        public class AgentClient {
          public static void main(String[] args) throws Exception {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("pod-ca", CertificateFactory.getInstance("X.509")
                .generateCertificate(new FileInputStream(args[0])));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
            HttpClient client = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_2).build();
            for (int i = 1; i < args.length; i++) {
              HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(args[i])).build(),
                  HttpResponse.BodyHandlers.ofString());
              System.out.println(r.version() + " " + r.statusCode());
            }
          }
        }
        """);
    Command.Result r =
        pod.asAgent(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-XX:TieredStopAtLevel=1",
            program.toString(),
            ca,
            "https://api.github.test/repos/acme/repo-a/java",
            "https://api.github.test/orgs/acme/java");
    assertThat(r.stdout().lines().toList()).as(r.all()).containsExactly("HTTP_2 200", "HTTP_2 403");
  }

  @Test
  @Order(7)
  void request_bodies_stream_upstream_and_python_keep_alive_is_checked_per_request() {
    Command.Result r =
        pod.asAgent(
            "python3",
            "-c",
            """
        import http.client, json, ssl
        ctx = ssl.create_default_context(cafile='%s')
        c = http.client.HTTPSConnection('api.github.test', context=ctx, timeout=60)
        def body():
            for _ in range(320):
                yield b'x' * 65536
        c.request('POST', '/repos/acme/repo-a/upload', body=body(), encode_chunked=True)
        r = c.getresponse()
        print(r.status, json.loads(r.read())['bodyLength'])
        c.request('GET', '/repos/acme/not-this-one')
        r = c.getresponse()
        print(r.status, json.loads(r.read())['rule'])
        """
                .formatted(ca));
    assertThat(r.stdout().lines().toList()).as(r.all()).containsExactly("200 20971520", "403 None");
  }

  @Test
  @Order(8)
  void response_bodies_stream_back_with_back_pressure() {
    // Bounded generously: paranoid leak tracking is slow, and the two cores are shared with other
    // builds.
    Command.Result r =
        pod.asAgent(
            java.util.Map.of(),
            java.time.Duration.ofSeconds(150),
            "curl",
            "-s",
            "-m",
            "140",
            "--cacert",
            ca,
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{size_download} %{time_total}",
            "https://api.github.test/repos/acme/repo-a/download?bytes=100000000");
    System.out.println("100 MB download (h2, paranoid leak detection): " + r.stdout());
    assertThat(r.stdout()).as(r.all()).startsWith("200 100000000 ");
  }

  @Test
  @Order(9)
  void raw_tcp_to_an_allowed_cidr_is_spliced() {
    Command.Result r =
        pod.asAgent(
            "python3",
            "-c",
            """
        import socket
        s = socket.create_connection(('198.18.0.2', 9000), timeout=5)
        s.sendall(b'ping over raw tcp')
        print(s.recv(100).decode())
        """);
    assertThat(r.stdout().strip()).as(r.all()).isEqualTo("ping over raw tcp");
  }

  @Test
  @Order(10)
  void head_expect_continue_and_h2_bodies_are_forwarded_faithfully() {
    Command.Result head = curl("-I", "--http1.1", "https://api.github.test/repos/acme/repo-a/head");
    assertThat(head.stdout()).as(head.all()).startsWith("HTTP/1.1 200");
    assertThat(UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/head").getString("method"))
        .isEqualTo("HEAD");

    Command.Result expect =
        curl(
            "--http1.1",
            "-H",
            "Expect: 100-continue",
            "--data-binary",
            "hello upstream",
            "https://api.github.test/repos/acme/repo-a/expect");
    assertThat(status(expect)).as(expect.all()).isEqualTo(200);
    JsonObject sawExpect = UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/expect");
    assertThat(sawExpect.getInteger("bodyLength")).isEqualTo(14);
    assertThat(headerValues(sawExpect, "expect")).isEmpty();

    Command.Result h2 =
        curl(
            "--http2",
            "--data-binary",
            "body over h2",
            "https://api.github.test/repos/acme/repo-a/h2-post");
    assertThat(status(h2)).as(h2.all()).isEqualTo(200);
    assertThat(UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/h2-post").getInteger("bodyLength"))
        .isEqualTo(12);
  }

  // ------------------------------------------------------------------ denials

  @Test
  @Order(11)
  void a_disallowed_method_gets_a_json_403() {
    Command.Result r = curl("-X", "DELETE", "https://api.github.test/repos/acme/repo-a");
    assertThat(status(r)).as(r.all()).isEqualTo(403);
    JsonObject denial = assertDenialJson(body(r));
    assertThat(denial.getString("type")).isEqualTo("tag:capgate.dev,2026:problem:denied");
    // RFC 9457's media type, over HTTP/1.1 and HTTP/2 alike (curl's last -w wins).
    for (String http : List.of("--http1.1", "--http2")) {
      Command.Result type =
          curl(
              http,
              "-X",
              "DELETE",
              "-o",
              "/dev/null",
              "-w",
              "%{content_type}\n%{http_code}",
              "https://api.github.test/repos/acme/repo-a");
      assertThat(type.stdout().lines().toList())
          .as(type.all())
          .containsExactly("application/problem+json", "403");
    }
  }

  @Test
  @Order(12)
  void a_disallowed_path_gets_a_json_403() {
    Command.Result r = curl("https://api.github.test/repos/acme/secret-repo");
    assertThat(status(r)).as(r.all()).isEqualTo(403);
    JsonObject denial = assertDenialJson(body(r));
    assertThat(denial.getString("path")).isEqualTo("/repos/acme/secret-repo");
    assertThat(denial.getString("host")).isEqualTo("api.github.test");
  }

  @Test
  @Order(12)
  void a_disallowed_host_gets_a_tls_alert_or_a_json_403_in_plaintext() {
    Command.Result tls = curl("https://evil.test/");
    assertThat(tls.exitCode())
        .as(tls.all())
        .isEqualTo(35); // TLS handshake failed: alert access denied
    Command.Result plain = pod.asAgent("curl", "-s", "-w", "\n%{http_code}", "http://evil.test/");
    assertThat(status(plain)).as(plain.all()).isEqualTo(403);
    assertDenialJson(body(plain));
  }

  @Test
  @Order(13)
  void the_second_keep_alive_request_is_checked_on_its_own() {
    Command.Result r =
        pod.asAgent(
            "curl",
            "-s",
            "--cacert",
            ca,
            "--http1.1",
            "-w",
            "%{http_code} %{num_connects}\n",
            "-o",
            "/dev/null",
            "https://api.github.test/repos/acme/repo-a?ka=1",
            "-o",
            "/dev/null",
            "https://api.github.test/repos/acme/other",
            "-o",
            "/dev/null",
            "https://api.github.test/repos/acme/repo-a?ka=2");
    assertThat(r.stdout().lines().toList()).as(r.all()).containsExactly("200 1", "403 0", "200 0");
    // The sidecar kept its upstream connection alive across the agent's requests, too.
    assertThat(UpstreamLog.lastRequest(pod, "/repos/acme/repo-a?ka=2").getString("connection"))
        .isEqualTo(UpstreamLog.lastRequest(pod, "/repos/acme/repo-a?ka=1").getString("connection"));
  }

  @Test
  @Order(14)
  void an_http2_stream_to_a_disallowed_path_is_refused_alone() {
    Command.Result r =
        pod.asAgent(
            "curl",
            "-s",
            "--cacert",
            ca,
            "--http2",
            "-Z",
            "-w",
            "%{http_version} %{http_code} %{url_effective}\n",
            "-o",
            "/dev/null",
            "https://api.github.test/repos/acme/repo-a/h2",
            "-o",
            "/dev/null",
            "https://api.github.test/admin/h2",
            "-o",
            "/dev/null",
            "https://api.github.test/repos/acme/repo-a/h2-again");
    assertThat(r.stdout().lines().sorted().toList())
        .as(r.all())
        .containsExactly(
            "2 200 https://api.github.test/repos/acme/repo-a/h2",
            "2 200 https://api.github.test/repos/acme/repo-a/h2-again",
            "2 403 https://api.github.test/admin/h2");
    assertThat(headerValues(UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/h2"), "authorization"))
        .containsExactly("Bearer " + SECRET);
  }

  @Test
  @Order(15)
  void a_vault_failure_is_a_503_naming_the_credential() {
    Command.Result r = curl("https://api.github.test/vaultless/x");
    assertThat(status(r)).as(r.all()).isEqualTo(503);
    assertThat(body(r)).contains("missing");
    JsonObject problem = new JsonObject(body(r));
    assertThat(problem.getString("type"))
        .isEqualTo("tag:capgate.dev,2026:problem:credential-unavailable");
    assertThat(problem.getInteger("status")).isEqualTo(503);
    assertThat(problem.getString("error")).isEqualTo("credential unavailable: missing");
  }

  @Test
  @Order(16)
  void a_websocket_upgrade_on_an_allowed_route_becomes_a_splice_with_the_credential_masked() {
    // Here under paranoid leak detection: the switch from HTTP to a splice loses no buffer.
    Command.Result r =
        pod.asAgent(
            "python3", "-c", AgentPrograms.WEBSOCKET_CLIENT.formatted(ca, "/repos/acme/repo-a/ws"));
    assertThat(r.stdout().lines().toList())
        .as(r.all())
        .containsExactly(
            "HTTP/1.1 101 Switching Protocols",
            "accept ok",
            "authorization=Bearer " + "*".repeat(SECRET.length()),
            "echo: ping 1",
            "echo: " + "x".repeat(60000),
            "echo: ping 3");
    assertThat(headerValues(UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/ws"), "authorization"))
        .containsExactly("Bearer " + SECRET);
  }

  // ------------------------------------------------------------------ bypass attempts

  @Test
  @Order(17)
  void separate_agent_connections_reuse_the_sidecars_idle_upstream_connection()
      throws InterruptedException {
    // One curl per request, as a shell loop runs it: a new agent connection (and a TLS handshake
    // with the pod CA) every time. The sidecar keeps one pool of idle upstream connections per
    // event loop (one loop per core), so the upstream sees at most that many connections.
    int loops = Runtime.getRuntime().availableProcessors();
    int runs = 3 * loops;
    Set<String> upstreamConnections = new HashSet<>();
    for (int i = 0; i < runs; i++) {
      String path = "/repos/acme/repo-a?pool=" + i;
      Command.Result r = curl("-o", "/dev/null", "https://api.github.test" + path);
      assertThat(status(r)).as(r.all()).isEqualTo(200);
      upstreamConnections.add(UpstreamLog.lastRequest(pod, path).getString("connection"));
    }
    System.out.println(
        "[upstream pool] " + runs + " agent connections, upstream saw " + upstreamConnections);
    assertThat(upstreamConnections)
        .as("upstream connections for %d agent connections on %d event loops", runs, loops)
        .hasSizeLessThanOrEqualTo(loops);

    // Idle longer than servers commonly keep a connection: not used again, the next one dials.
    Thread.sleep(5_000);
    Command.Result late =
        curl("-o", "/dev/null", "https://api.github.test/repos/acme/repo-a?pool=late");
    assertThat(status(late)).as(late.all()).isEqualTo(200);
    assertThat(UpstreamLog.lastRequest(pod, "/repos/acme/repo-a?pool=late").getString("connection"))
        .isNotIn(upstreamConnections);
  }

  @Test
  @Order(20)
  void a_direct_ip_connect_without_sni_fails() {
    Command.Result tls = pod.asAgent("curl", "-s", "-k", "-m", "10", "https://198.18.0.2/");
    assertThat(tls.exitCode()).as(tls.all()).isNotZero();
    Command.Result plain =
        pod.asAgent("curl", "-s", "-w", "\n%{http_code}", "-m", "10", "http://198.18.0.2/");
    assertThat(status(plain)).as(plain.all()).isEqualTo(403);
  }

  @Test
  @Order(21)
  void ipv6_goes_through_the_sidecar_too() {
    Command.Result direct =
        pod.asAgent("curl", "-s", "-k", "-m", "10", "https://[fd00:198:18::2]/");
    assertThat(direct.exitCode()).as(direct.all()).isNotZero();
    // An allowed name over IPv6: intercepted like IPv4 (the pod CA's leaf, the credential
    // injected).
    Command.Result allowed =
        curl(
            "--resolve",
            "api.github.test:443:[fd00:198:18::2]",
            "https://api.github.test/repos/acme/repo-a?v6=1");
    assertThat(status(allowed)).as(allowed.all()).isEqualTo(200);
    assertThat(
            headerValues(UpstreamLog.lastRequest(pod, "/repos/acme/repo-a?v6=1"), "authorization"))
        .containsExactly("Bearer " + SECRET);
  }

  @Test
  @Order(22)
  void udp_other_than_dns_is_dropped() {
    Command.Result r =
        pod.asAgent(
            "python3",
            "-c",
            """
        import socket
        for family, host in ((socket.AF_INET, '198.18.0.2'), (socket.AF_INET6, 'fd00:198:18::2')):
            s = socket.socket(family, socket.SOCK_DGRAM)
            try:
                s.sendto(b'exfiltrate', (host, 9999))
                print('sent')
            except PermissionError:
                print('blocked')
        """);
    assertThat(r.stdout().lines().toList()).as(r.all()).containsExactly("blocked", "blocked");
  }

  @Test
  @Order(23)
  void another_port_on_an_allowed_host_is_refused() {
    Command.Result r = curl("https://api.github.test:8443/repos/acme/repo-a");
    assertThat(r.exitCode()).as(r.all()).isEqualTo(35);
  }

  @Test
  @Order(24)
  void dns_answers_allowed_names_only() {
    String query =
        ASK_DNS
            + """
        def ask_tcp(name):
            q = struct.pack('>HHHHHH', 0x4321, 0x0100, 1, 0, 0, 0)
            q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\\0' + struct.pack('>HH', 1, 1)
            s = socket.create_connection(('198.18.0.2', 53), timeout=5)
            s.sendall(struct.pack('>H', len(q)) + q)
            r = s.recv(2)
            r = s.recv(struct.unpack('>H', r)[0])
            print('tcp', name, r[3] & 0x0f, struct.unpack('>H', r[6:8])[0])
        ask('evil.test')
        ask('api.github.test')
        ask('exfil-data.attacker.example')
        ask_tcp('evil.test')
        ask_tcp('api.github.test')
        """;
    Command.Result r = pod.asAgent("python3", "-c", query);
    assertThat(r.stdout().lines().toList())
        .as(r.all())
        .containsExactly(
            "evil.test 3 0",
            "api.github.test 0 1",
            "exfil-data.attacker.example 3 0",
            "tcp evil.test 3 0",
            "tcp api.github.test 0 1");
    assertThat(pod.log("upstream.log"))
        .contains("\"dnsSaw\":\"api.github.test.\"")
        .doesNotContain("evil.test.\"", "attacker");
  }

  @Test
  @Order(25)
  void a_host_header_that_differs_from_sni_is_rejected() {
    Command.Result h1 =
        curl("--http1.1", "-H", "Host: evil.test", "https://api.github.test/repos/acme/repo-a");
    assertThat(status(h1)).as(h1.all()).isEqualTo(400);
    Command.Result h2 =
        curl("--http2", "-H", "Host: evil.test", "https://api.github.test/repos/acme/repo-a");
    assertThat(status(h2)).as(h2.all()).isEqualTo(400);
  }

  @Test
  @Order(26)
  void dot_segments_are_normalized_before_policy() {
    for (String path :
        List.of(
            "/repos/acme/repo-a/../../other",
            "/repos/acme/repo-a/%2e%2e/%2e%2e/other",
            "/repos/acme/repo-a/%2E%2E/secret",
            "/repos/acme/repo-a/..%2f..%2fother")) {
      Command.Result r = curl("--path-as-is", "https://api.github.test" + path);
      assertThat(status(r)).as(path + ": " + r.all()).isIn(400, 403);
    }
    assertThat(pod.log("upstream.log")).doesNotContain("/other", "secret\"");
  }

  @Test
  @Order(27)
  void content_length_with_transfer_encoding_is_rejected() {
    Command.Result r =
        pod.asAgent(
            "python3",
            "-c",
            """
        import socket, ssl
        ctx = ssl.create_default_context(cafile='%s')
        s = ctx.wrap_socket(socket.create_connection(('api.github.test', 443)), server_hostname='api.github.test')
        s.sendall(b'POST /repos/acme/repo-a HTTP/1.1\\r\\nHost: api.github.test\\r\\nContent-Length: 4\\r\\n'
                  b'Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\nGET /repos/acme/smuggled HTTP/1.1\\r\\nHost: api.github.test\\r\\n\\r\\n')
        data = b''
        s.settimeout(5)
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        print(data.decode('latin-1').split('\\r\\n')[0])
        print('responses', data.count(b'HTTP/1.1 '))
        """
                .formatted(ca));
    assertThat(r.stdout().lines().toList())
        .as(r.all())
        .containsExactly("HTTP/1.1 400 Bad Request", "responses 1");
    assertThat(pod.log("upstream.log")).doesNotContain("smuggled");
  }

  @Test
  @Order(28)
  void the_leaf_validates_only_for_agents_that_trust_the_pod_ca() {
    Command.Result untrusted =
        pod.asAgent("curl", "-s", "https://api.github.test/repos/acme/repo-a");
    assertThat(untrusted.exitCode())
        .as(untrusted.all())
        .isEqualTo(60); // peer certificate cannot be authenticated
    Command.Result trusted = curl("https://api.github.test/repos/acme/repo-a");
    assertThat(status(trusted)).isEqualTo(200);
  }

  @Test
  @Order(29)
  void a_connection_straight_to_the_listener_is_closed_not_looped() {
    Command.Result r =
        pod.asAgent(
            "python3",
            "-c",
            """
        import socket
        for host in ('127.0.0.1', '198.18.0.1', '::1'):
            s = socket.create_connection((host, 14001), timeout=5)
            s.sendall(b'GET / HTTP/1.1\\r\\nHost: api.github.test\\r\\n\\r\\n')
            try:
                data = s.recv(100)
                print(host, 'closed' if data == b'' else data)
            except ConnectionResetError:
                print(host, 'closed')
        """);
    assertThat(r.stdout().lines().toList())
        .as(r.all())
        .containsExactly("127.0.0.1 closed", "198.18.0.1 closed", "::1 closed");
  }

  // ------------------------------------------------------------------ no possession

  @Test
  @Order(90)
  void the_agent_environment_holds_no_secret() {
    Command.Result env = pod.asAgent("env");
    assertThat(env.stdout()).doesNotContain(SECRET);
    Command.Result key = pod.asAgent("cat", pod.dir().resolve("sidecar/ca.key").toString());
    assertThat(key.exitCode()).as("the agent cannot read the CA key").isNotZero();
  }

  @Test
  @Order(91)
  void metrics_count_decisions_without_secret_material() {
    makeTrafficOnEveryPath();
    // The decision is counted when the exchange or connection ends, which may be a moment after
    // the agent saw its answer.
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              Command.Result m = pod.inPod("curl", "-s", "http://127.0.0.1:14021/metrics");
              assertThat(m.stdout())
                  .contains(
                      "capgate_decisions_total{",
                      "outcome=\"allow\"",
                      "outcome=\"deny\"",
                      "capgate_cert_cache_misses_total",
                      "capgate_request_duration_seconds_bucket")
                  .doesNotContain(SECRET, SECOND_SECRET);
              // One recorder counts every path's decisions, under the names the README documents.
              assertThat(m.stdout())
                  .contains(
                      "level=\"connection\"",
                      "level=\"request\"",
                      "capgate_connections_total{action=\"passthrough\"",
                      "capgate_dns_queries_total{outcome=\"forwarded\"}",
                      "capgate_dns_queries_total{outcome=\"nxdomain\"}",
                      "capgate_agent_tls_failures_total{kind=\"agent-rejected-pod-ca\"}");
            });
    // For the record: what minting cost in this run (the sidecar mints off its event loops).
    pod.inPod("curl", "-s", "http://127.0.0.1:14021/metrics")
        .stdout()
        .lines()
        .filter(
            l ->
                l.startsWith("capgate_leaf_mint_seconds_sum")
                    || l.startsWith("capgate_leaf_mint_seconds_count")
                    || l.startsWith("capgate_cert_cache"))
        .forEach(System.out::println);
  }

  /**
   * The /metrics of a sidecar that carried traffic on every path: {@code promtool check metrics}
   * (make tools) finds nothing, and every metric the chart's sidecar alerts and the dashboard's
   * sidecar row read is served (docs/metrics.md).
   */
  @Test
  @Order(91)
  void metrics_pass_promtool_and_serve_what_the_chart_reads() {
    makeTrafficOnEveryPath();
    String text = pod.inPod("curl", "-s", "http://127.0.0.1:14021/metrics").stdout();
    PrometheusLint.checkEndpoint("sidecar", text);
    var alerts =
        PrometheusLint.checkChartReads(
            "sidecar", text, Path.of("../charts/capgate/files"), "Sidecars");
    assertThat(alerts).containsKey("CapgateDenialsSpike");
  }

  @Test
  @Order(92)
  void every_path_writes_structured_audit_lines_of_its_kind() {
    makeTrafficOnEveryPath();
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(pod.log("sidecar.log"))
                    .contains(
                        "\"decision\":\"allow\"",
                        "\"decision\":\"deny\"",
                        "\"credential\":\"github\"",
                        "\"credential\":\"github,tenant\"",
                        "\"kind\":\"connection\"}",
                        "\"kind\":\"request\"}",
                        "\"kind\":\"dns\"}",
                        "\"kind\":\"tls\"}"));
  }

  @Test
  @Order(92)
  void a_request_line_says_pod_protocol_destination_bytes_duration_and_the_agents_traceparent() {
    Command.Result h1 =
        curl(
            "--http1.1",
            "-X",
            "POST",
            "--data-binary",
            "0123456789",
            "-H",
            "traceparent: " + TRACEPARENT,
            "https://api.github.test/repos/acme/repo-a/audit-h1");
    assertThat(status(h1)).as(h1.all()).isEqualTo(200);
    Command.Result h2 =
        curl(
            "--http2",
            "-H",
            "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
            "https://api.github.test/repos/acme/repo-a/audit-h2");
    assertThat(status(h2)).as(h2.all()).isEqualTo(200);
    Command.Result malformed =
        curl(
            "-H",
            // not hex: agent text that must not land in the audit line under this name
            "traceparent: 00-ghp_agent-made-this-up-0123456789ab-00f067aa0ba902b7-01",
            "https://api.github.test/repos/acme/repo-a/audit-bad-trace");
    assertThat(status(malformed)).as(malformed.all()).isEqualTo(200);
    Command.Result none = curl("https://api.github.test/repos/acme/repo-a/audit-no-trace");
    assertThat(status(none)).as(none.all()).isEqualTo(200);

    JsonObject line = AuditLines.awaitPath(pod, "/repos/acme/repo-a/audit-h1");
    assertThat(line.getString("type")).isEqualTo("http.request");
    assertThat(line.getJsonObject("pod").getMap())
        .containsEntry("name", POD_NAME)
        .containsEntry("namespace", "agents")
        .containsEntry("uid", POD_UID);
    assertThat(line.getString("protocol")).isEqualTo("http/1.1");
    assertThat(line.getJsonObject("destination").getInteger("port")).isEqualTo(443);
    assertThat(line.getJsonObject("destination").getString("ip")).isNotBlank();
    assertThat(line.getLong("bytesOut")).isEqualTo(10L);
    // The upstream echoes the request: the agent received a body of that size.
    assertThat(line.getLong("bytesIn")).isEqualTo((long) body(h1).getBytes(UTF_8).length);
    assertThat(line.getLong("durationMs")).isEqualTo(line.getLong("latencyMicros") / 1000);
    assertThat(line.getString("traceparent")).isEqualTo(TRACEPARENT);

    JsonObject overH2 = AuditLines.awaitPath(pod, "/repos/acme/repo-a/audit-h2");
    assertThat(overH2.getString("protocol")).isEqualTo("h2");
    assertThat(overH2.getString("traceparent"))
        .isEqualTo("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
    assertThat(overH2.getLong("bytesOut")).isZero();

    // Propagated as the agent sent it, never invented: the upstream sees the agent's header or
    // none.
    assertThat(
            headerValues(
                UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/audit-h1"), "traceparent"))
        .containsExactly(TRACEPARENT);
    assertThat(
            headerValues(
                UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/audit-no-trace"), "traceparent"))
        .isEmpty();
    assertThat(
            AuditLines.awaitPath(pod, "/repos/acme/repo-a/audit-no-trace")
                .containsKey("traceparent"))
        .isFalse();
    assertThat(
            AuditLines.awaitPath(pod, "/repos/acme/repo-a/audit-bad-trace")
                .containsKey("traceparent"))
        .as("a malformed traceparent is not written")
        .isFalse();
  }

  /**
   * Every audit line of the run so far (every test before this one, and traffic on every path)
   * matches docs/audit.schema.json, the contract log pipelines are built against.
   */
  @Test
  @Order(93)
  void every_audit_line_of_the_run_matches_the_published_schema() {
    makeTrafficOnEveryPath();
    Command.Result tcp =
        pod.asAgent(
            "python3",
            "-c",
            "import socket; s=socket.create_connection(('198.18.0.2', 9000), 5); s.close()");
    // The raw-tcp rule's splice is audited as a tcp connection (whether the port answers or not).
    assertThat(tcp.exitCode()).as(tcp.all()).isIn(0, 1);
    Command.Result r = curl("https://api.github.test/repos/acme/repo-a/schema-last");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    AuditLines.awaitPath(pod, "/repos/acme/repo-a/schema-last");

    List<String> lines = AuditLines.rawLines(pod);
    assertThat(lines).hasSizeGreaterThan(10);
    java.util.Set<String> types = new java.util.TreeSet<>();
    for (String line : lines) {
      assertThat(AuditSchema.violations(line)).as(line).isEmpty();
      types.add(new JsonObject(line).getString("type"));
    }
    assertThat(types).contains("connection", "http.request", "dns", "tls.handshake");
  }

  @Test
  @Order(94)
  void another_pod_gets_health_status_codes_from_the_admin_port_and_nothing_else() {
    // A decision of this test's own, so that the pod's own view below has a rule to show.
    assertThat(status(curl("https://api.github.test/repos/acme/repo-a"))).isEqualTo(200);
    // The admin server listens on 0.0.0.0 (IPv4), where the kubelet probes it.
    for (String admin : new String[] {PodNetns.POD_V4 + ":14021"}) {
      Command.Result metrics =
          pod.inPeer(
              "curl", "-s", "-m", "10", "-w", "\n%{http_code}", "http://" + admin + "/metrics");
      System.out.println(
          "peer GET " + admin + "/metrics -> " + metrics.stdout().replace("\n", " | "));
      assertThat(status(metrics)).as(metrics.all()).isEqualTo(404);
      assertThat(metrics.stdout()).doesNotContain("capgate_", "github-api", "github", "rule=");
      Command.Result ready =
          pod.inPeer(
              "curl", "-s", "-m", "10", "-w", "\n%{http_code}", "http://" + admin + "/readyz");
      assertThat(status(ready)).as(ready.all()).isEqualTo(200);
      assertThat(body(ready)).isEmpty();
      Command.Result health =
          pod.inPeer(
              "curl", "-s", "-m", "10", "-w", "\n%{http_code}", "http://" + admin + "/healthz");
      assertThat(status(health)).as(health.all()).isEqualTo(200);
    }
    // The pod itself (loopback) still reads everything.
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              Command.Result local =
                  pod.inPod("curl", "-s", "-w", "\n%{http_code}", "http://127.0.0.1:14021/metrics");
              assertThat(status(local)).isEqualTo(200);
              assertThat(local.stdout())
                  .contains("capgate_decisions_total{", "rule=\"github-api\"");
            });
  }

  /**
   * The sweep over the whole run, after the last test whichever ran: no log holds a secret (after a
   * request of its own that injects both, see {@link PodLogs#sweep}), the sidecar's log is JSON
   * lines only, and Netty's leak detector (paranoid in these tests) reported no leaked buffer.
   */
  @AfterAll
  static void no_log_line_of_the_run_contains_the_secret() {
    PodLogs.sweep(
        pod,
        () -> {
          Command.Result r = curl("https://api.github.test/both/after-all-sweep");
          assertThat(status(r)).as(r.all()).isEqualTo(200);
          assertThat(r.stdout()).doesNotContain(SECRET, SECOND_SECRET);
        },
        "/both/after-all-sweep",
        List.of(SECRET, SECOND_SECRET));
    String sidecarLog = pod.log("sidecar.log");
    assertThat(sidecarLog).doesNotContain("LEAK");
    assertThat(sidecarLog.lines().filter(l -> !l.isBlank() && !l.startsWith("{")).toList())
        .as("structured logs only")
        .isEmpty();
    // Log lines (stderr, same file) in the schema both deployables share: docs/log.schema.json.
    List<String> logLines = sidecarLog.lines().filter(l -> l.startsWith("{\"time\"")).toList();
    assertThat(logLines).as("the sidecar logged its start at least").isNotEmpty();
    for (String line : logLines) {
      assertThat(JsonSchemas.violations(JsonSchemas.LOG, line)).as(line).isEmpty();
    }
  }

  /**
   * Decisions on every path the recorder counts, for the tests that check the counts and lines: a
   * request allowed with one credential and one with two, a request denied, a passthrough splice, a
   * DNS query answered and one refused, and an agent that refuses the pod CA.
   */
  private static void makeTrafficOnEveryPath() {
    assertThat(status(curl("https://api.github.test/repos/acme/repo-a/every-path"))).isEqualTo(200);
    assertThat(status(curl("https://api.github.test/both/every-path"))).isEqualTo(200);
    assertThat(status(curl("https://api.github.test/not/allowed"))).isEqualTo(403);
    Command.Result passthrough =
        pod.asAgent(
            "curl",
            "-s",
            "-w",
            "\n%{http_code}",
            "--cacert",
            pod.upstreamCaCert().toString(),
            "https://pypi.test/simple/");
    assertThat(status(passthrough)).as(passthrough.all()).isEqualTo(200);
    Command.Result dns =
        pod.asAgent("python3", "-c", ASK_DNS + "ask('api.github.test')\nask('evil.test')\n");
    assertThat(dns.stdout().lines().toList())
        .as(dns.all())
        .containsExactly("api.github.test 0 1", "evil.test 3 0");
    Command.Result untrusted =
        pod.asAgent("curl", "-s", "https://api.github.test/repos/acme/repo-a");
    assertThat(untrusted.exitCode()).as(untrusted.all()).isEqualTo(60); // refused the pod CA
  }

  // ------------------------------------------------------------------ helpers

  private static Command.Result curl(String... args) {
    return AgentCurl.trusting(pod, ca, args);
  }

  /** An RFC 9457 problem with the fields the answers always had as extension members. */
  private static JsonObject assertDenialJson(String body) {
    JsonObject denial = new JsonObject(body);
    assertThat(denial.getString("type")).startsWith("tag:capgate.dev,2026:problem:");
    assertThat(denial.getString("title")).isNotBlank();
    assertThat(denial.getInteger("status")).isEqualTo(403);
    assertThat(denial.getString("detail")).isNotBlank();
    assertThat(denial.getString("instance")).isEqualTo(denial.getString("requestId"));
    assertThat(denial.getString("error")).isNotBlank();
    assertThat(denial.getString("requestId")).isNotBlank();
    assertThat(denial.containsKey("rule")).isTrue();
    return denial;
  }
}
