package dev.capgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.e2e.upstream.GitHubApp;
import dev.capgate.e2e.upstream.GitHubAppFixture;
import dev.capgate.e2e.upstream.LoggedMessages;
import dev.capgate.e2e.upstream.Upstreams;
import dev.capgate.sidecar.config.SidecarConfig;
import dev.capgate.testkit.OpenBaoServer;
import dev.capgate.testkit.Pki;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real sidecar proxy (file mode, in this JVM) with a GitHub App credential: the App's key in a
 * real OpenBao, the GitHub-style upstream over TLS with a private CA, an agent's HTTPS requests
 * through the proxy's listener. The only thing not as in a pod is what {@link AotTraining} does
 * too: no iptables, so the connections' original destination is named by the test, and the proxy
 * reaches its loopback upstream through a CONNECT proxy (the corporate-egress path). This test
 * lives in the e2e module, in the sidecar's package for that one constructor, because the
 * GitHub-style upstream lives here.
 */
class GitHubAppProxyIT {
  static final String HOST = "api.github.test";
  static final long APP_ID = 8080;
  static final long INSTALLATION = 9090;
  static final OpenBaoServer bao = OpenBaoServer.shared();
  @TempDir static Path dir;
  static Vertx vertx;
  static HttpServer upstream;
  static GitHubApp app;
  static Pki podCa;
  static Path upstreamCa;
  static String mount;
  static Path tokenFile;
  static int egressPort;
  static HttpClient direct;

  /** The request lines the CONNECT proxy saw ({@code CONNECT host:port HTTP/1.1}). */
  static final List<String> tunnels = new CopyOnWriteArrayList<>();

  final LoggedMessages logged = new LoggedMessages("dev.capgate");
  final List<ProxyCommand.Running> running = new ArrayList<>();

  /** The audit lines (the sidecar writes them to stdout), teed while a sidecar runs. */
  final java.io.ByteArrayOutputStream audit = new java.io.ByteArrayOutputStream();

  static final java.io.PrintStream STDOUT = System.out;

  @BeforeAll
  static void start() throws Exception {
    Pki upstreamPki = new Pki("github-app-proxy-it upstream CA");
    upstreamPki
        .issueServer("upstream", List.of(HOST, "localhost"), List.of("127.0.0.1"))
        .writeTo(dir, "upstream");
    upstreamCa = Files.writeString(dir.resolve("upstream-ca.pem"), upstreamPki.caCertPem());
    podCa = new Pki("capgate pod CA (github-app-proxy-it)");
    Files.writeString(dir.resolve("ca.crt"), podCa.caCertPem());
    Files.writeString(dir.resolve("ca.key"), podCa.caKeyPem());

    GitHubAppFixture github =
        GitHubAppFixture.create(bao, dir, APP_ID, INSTALLATION, Clock.systemUTC());
    app = github.app();
    mount = github.mount();
    tokenFile = github.tokenFile();
    vertx = Vertx.vertx();
    var api = Upstreams.githubApi("ghp_static_unused_" + System.nanoTime(), app);
    // The agent's requests arrive for api.github.test (SNI and Host); the sidecar's own token
    // calls for localhost (its JDK client resolves names with the JVM: no test DNS here).
    upstream =
        new Upstreams()
            .host(HOST, api)
            .host("localhost", api)
            .listen(
                vertx, "127.0.0.1", 0, dir.resolve("upstream.crt"), dir.resolve("upstream.key"));
    egressPort = LoopbackConnectProxy.start(vertx, upstream.actualPort(), tunnels::add);
    direct =
        HttpClient.newBuilder()
            .sslContext(dev.capgate.common.tls.PemTrust.sslContext(upstreamCa, "upstream CA"))
            .build();
  }

  @AfterAll
  static void stop() {
    if (vertx != null) {
      vertx.close().await();
    }
  }

  @AfterEach
  void stopSidecars() {
    running.forEach(ProxyCommand.Running::stop);
    logged.detach();
    System.setOut(STDOUT);
    String auditLines = audit.toString(StandardCharsets.UTF_8);
    for (String token : app.minted()) {
      assertThat(logged.messages()).as("the sidecar's log").noneMatch(line -> line.contains(token));
      assertThat(auditLines).as("the audit lines").doesNotContain(token);
    }
    assertThat(logged.messages()).noneMatch(line -> line.contains("PRIVATE KEY"));
    assertThat(auditLines).doesNotContain("PRIVATE KEY");
  }

  /** A session whose rule allows all of acme's repositories: broader than the token. */
  static String session() {
    return """
        {"apiVersion": "capgate.dev/v1alpha1", "kind": "AgentSession",
         "metadata": {"namespace": "agents", "name": "fix-issue-42"},
         "spec": {
           "user": "alice@example.com", "agent": "coding-agent",
           "vault": {"role": "capgate-agent"},
           "credentials": [{"name": "github",
             "githubApp": {"appId": %d, "installationId": %d,
               "privateKey": {"path": "%s/data/github-app/acme"},
               "apiUrl": "https://localhost:%d",
               "repositories": ["repo-a"],
               "permissions": {"contents": "read", "pull_requests": "write"}},
             "inject": {"type": "bearer"}}],
           "egress": [{"name": "github-api", "hosts": ["%s"], "ports": [%d],
             "methods": ["GET", "POST", "PUT"], "paths": ["/repos/acme/**", "/echo"],
             "credential": "github"}]}}
        """
        .formatted(APP_ID, INSTALLATION, mount, upstream.actualPort(), HOST, upstream.actualPort());
  }

  /** The real proxy, as a pod's CAPGATE_* variables start it; returns its listener port. */
  int startSidecar(String vaultAddress) throws Exception {
    logged.attach();
    System.setOut(
        new java.io.PrintStream(
            new java.io.OutputStream() {
              @Override
              public void write(int b) {
                STDOUT.write(b);
                synchronized (audit) {
                  audit.write(b);
                }
              }

              @Override
              public void write(byte[] b, int off, int len) {
                STDOUT.write(b, off, len);
                synchronized (audit) {
                  audit.write(b, off, len);
                }
              }
            },
            true,
            StandardCharsets.UTF_8));
    Path sessionFile = Files.writeString(dir.resolve("session.json"), session());
    int proxyPort = LoopbackSidecarFlags.freePort();
    Map<String, String> flags =
        LoopbackSidecarFlags.of(
            dir, sessionFile, dir.resolve("ca.crt"), dir.resolve("ca.key"), proxyPort);
    flags.put("upstream-proxy", "127.0.0.1:" + egressPort);
    flags.put("vault-addr", vaultAddress);
    flags.put("vault-static-token-file", tokenFile.toString());
    flags.put(
        SidecarContract.flagOf(SidecarContract.ENV_HOST_ALIASES),
        "[{\"ip\":\"127.0.0.1\",\"hostnames\":[\"" + HOST + "\"]}]");
    flags.put(SidecarContract.flagOf(SidecarContract.ENV_UPSTREAM_CA_FILE), upstreamCa.toString());
    Map<String, String> variables = LoopbackSidecarFlags.variables(flags);
    InetSocketAddress destination =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), upstream.actualPort());
    running.add(
        new ProxyCommand(SidecarConfig.parse(List.of(), variables), ch -> Optional.of(destination))
            .start());
    return proxyPort;
  }

  /** What an agent gets: status and body of an HTTPS request redirected to the proxy. */
  record Answer(int status, String body) {}

  Answer agent(int proxyPort, HttpMethod method, String path, String authorization)
      throws Exception {
    HttpClientAgent client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(true)
                .setTrustOptions(
                    new PemTrustOptions().addCertValue(Buffer.buffer(podCa.caCertPem()))));
    try {
      RequestOptions options =
          new RequestOptions()
              .setServer(SocketAddress.inetSocketAddress(proxyPort, "127.0.0.1"))
              .setHost(HOST)
              .setPort(upstream.actualPort())
              .setMethod(method)
              .setURI(path);
      if (authorization != null) {
        options.putHeader("authorization", authorization);
      }
      return client
          .request(options)
          .compose(r -> method == HttpMethod.GET ? r.send() : r.send("{\"title\":\"t\"}"))
          .compose(
              resp ->
                  resp.body()
                      .map(
                          b ->
                              new Answer(
                                  resp.statusCode(),
                                  resp.headers().toString() + "\n" + b.toString())))
          .await(60, TimeUnit.SECONDS);
    } finally {
      client.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Status of a call to the upstream with {@code token}, not through Capgate. */
  static int directly(String method, String path, String token) throws Exception {
    return direct
        .send(
            HttpRequest.newBuilder(URI.create("https://localhost:" + upstream.actualPort() + path))
                .header("Authorization", "Bearer " + token)
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void theAgentsRequestsCarryOneMintedTokenItNeverSees() throws Exception {
    int proxy = startSidecar(bao.address());
    int mintedBefore = app.minted().size();

    Answer repoA = agent(proxy, HttpMethod.GET, "/repos/acme/repo-a", "Bearer agent-made-this-up");
    assertThat(repoA.status()).as(repoA.body()).isEqualTo(200);
    assertThat(repoA.body()).contains("\"full_name\":\"acme/repo-a\"");
    for (int i = 0; i < 10; i++) {
      assertThat(agent(proxy, HttpMethod.POST, "/repos/acme/repo-a/pulls", null).status())
          .isEqualTo(201);
    }
    assertThat(app.minted()).as("one token for eleven requests").hasSize(mintedBefore + 1);
    assertThat(tunnels)
        .as("the mint went through the corporate proxy too")
        .anyMatch(line -> line.startsWith("CONNECT localhost:" + upstream.actualPort()));
    String token = app.minted().getLast();

    // The upstream echoes what it received (headers and the x-echo-authorization header): the
    // sidecar masks the token on its way back.
    Answer echo = agent(proxy, HttpMethod.GET, "/echo", null);
    assertThat(echo.status()).isEqualTo(200);
    assertThat(echo.body()).contains("authorization").doesNotContain(token);

    // The rule allows every acme repository; the token does not: GitHub-style says 404 even
    // through Capgate, and so it does straight to the upstream with the token itself.
    assertThat(agent(proxy, HttpMethod.GET, "/repos/acme/repo-b", null).status())
        .as("policy allows repo-b, the token does not")
        .isEqualTo(404);
    assertThat(directly("GET", "/repos/acme/repo-b", token)).isEqualTo(404);
    assertThat(agent(proxy, HttpMethod.PUT, "/repos/acme/repo-a/contents/x", null).status())
        .as("contents:read only")
        .isEqualTo(403);
    assertThat(directly("GET", "/repos/acme/repo-a", token)).isEqualTo(200);

    // The sidecar stops (the pod goes, or the session's end in cluster mode): revoked upstream.
    running.removeFirst().stop();
    assertThat(directly("GET", "/repos/acme/repo-a", token))
        .as("GitHub-style no longer takes the token")
        .isEqualTo(401);
  }

  @Test
  void vaultDownIs503WithoutKeyOrToken() throws Exception {
    int proxy = startSidecar("http://127.0.0.1:" + LoopbackSidecarFlags.freePort());
    int mintedBefore = app.minted().size();
    Answer answer = agent(proxy, HttpMethod.GET, "/repos/acme/repo-a", null);
    assertThat(answer.status()).isEqualTo(503);
    assertThat(answer.body())
        .contains("credential-unavailable")
        .contains("github")
        .doesNotContain("PRIVATE KEY")
        .doesNotContain("ghs_");
    assertThat(app.minted()).hasSize(mintedBefore);
    // The reason is for the audit line, not for the agent. The line may be written a moment after
    // the answer went out (a clean-clone make test once read the log before it).
    String reason = "the GitHub App private key is unavailable: Vault unreachable";
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
    while (!audit.toString(StandardCharsets.UTF_8).contains(reason)
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(audit.toString(StandardCharsets.UTF_8)).contains(reason);
  }
}
