package dev.capgate.e2e.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.OpenBaoServer;
import dev.capgate.testkit.Pki;
import dev.capgate.testkit.ProcessResult;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scenario upstreams on loopback, with real clients: they must refuse what arrives without the
 * credential Capgate would inject, or the end-to-end scenarios would prove nothing.
 */
class UpstreamsIT {
  static final String TOKEN = "ghp_upstreams_it_" + Long.toHexString(System.nanoTime());
  static final String MCP_TOKEN = "mcp_upstreams_it_" + Long.toHexString(System.nanoTime());
  static final OpenBaoServer bao = OpenBaoServer.shared();
  @TempDir static Path dir;
  static Vertx vertx;
  static HttpServer server;
  static Path caFile;
  static final long APP_ID = 4242;
  static final long INSTALLATION = 77;
  static java.security.KeyPair appKeys;
  static GitHubApp app;

  @BeforeAll
  static void start() throws Exception {
    Pki pki = new Pki("upstreams-it");
    pki.issueServer(
            "upstreams",
            List.of("api.github.test", "github.test", "internal.test", "mcp.test"),
            List.of())
        .writeTo(dir, "upstream");
    caFile = dir.resolve("ca.pem");
    Files.writeString(caFile, pki.caCertPem());
    Path git = dir.resolve("git");
    bareRepo(git.resolve("acme/repo-a.git"));
    Path work = dir.resolve("work");
    run(null, "git", "init", "-q", "-b", "main", work.toString());
    Files.writeString(work.resolve("README.md"), "repo-a\n");
    run(work, "git", "add", ".");
    run(work, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
    run(work, "git", "push", "-q", git.resolve("acme/repo-a.git").toString(), "main");

    bareRepo(git.resolve("acme/repo-b.git"));
    run(work, "git", "push", "-q", git.resolve("acme/repo-b.git").toString(), "main");

    java.security.KeyPairGenerator rsa = java.security.KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    appKeys = rsa.generateKeyPair();
    app =
        new GitHubApp(
            APP_ID,
            appKeys.getPublic(),
            INSTALLATION,
            "acme",
            java.util.Set.of("repo-a", "repo-b"),
            Map.of("contents", "write", "pull_requests", "write", "metadata", "read"),
            java.time.Clock.systemUTC());

    vertx = Vertx.vertx();
    Upstreams upstreams =
        new Upstreams()
            .host("api.github.test", new GitHubStyleApi(TOKEN, app))
            .host("github.test", new GitSmartHttp(vertx, git, TOKEN, app))
            .host(
                "internal.test",
                new JwtCheckingApi(vertx, bao.address() + "/v1/identity/oidc/.well-known/keys"))
            .host("mcp.test", new McpServer(MCP_TOKEN));
    server =
        upstreams.listen(
            vertx, "127.0.0.1", 0, dir.resolve("upstream.crt"), dir.resolve("upstream.key"));
  }

  @AfterAll
  static void stop() {
    if (vertx != null) {
      vertx.close().await();
    }
  }

  @Test
  void theGitHostServesCloneOnlyWithTheTokenAsBasicPassword() throws Exception {
    String url = "https://github.test:" + server.actualPort() + "/acme/repo-a.git";
    String basic =
        Base64.getEncoder()
            .encodeToString(("x-access-token:" + TOKEN).getBytes(StandardCharsets.UTF_8));
    ProcessResult clone =
        git(
            "-c",
            "http.extraHeader=Authorization: Basic " + basic,
            "clone",
            "-q",
            url,
            dir.resolve("clone").toString());
    assertThat(clone.exitCode()).as(clone.stderr()).isZero();
    assertThat(dir.resolve("clone/README.md")).hasContent("repo-a");

    ProcessResult anonymous = git("clone", "-q", url, dir.resolve("anonymous").toString());
    assertThat(anonymous.exitCode()).isNotZero();
    assertThat(anonymous.stderr())
        .containsAnyOf("401", "Authentication failed", "could not read Username");
  }

  @Test
  void theRestApiWantsTheBearerTokenAndEchoesHeaders() throws Exception {
    assertThat(
            curl(
                "https://api.github.test/repos/acme/repo-a",
                "-H",
                "Authorization: Bearer " + TOKEN))
        .contains("\"full_name\":\"acme/repo-a\"");
    assertThat(curl("https://api.github.test/repos/acme/repo-a")).contains("Bad credentials");
    assertThat(curl("https://api.github.test/echo", "-H", "X-Probe: 1"))
        .contains("\"x-probe\":\"1\"");
  }

  @Test
  void theMcpServerAnswersToolsListWithItsToken() throws Exception {
    String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";
    assertThat(
            curl(
                "https://mcp.test/mcp",
                "-H",
                "Authorization: Bearer " + MCP_TOKEN,
                "-H",
                "content-type: application/json",
                "--data",
                body))
        .contains("\"name\":\"whoami\"");
    assertThat(curl("https://mcp.test/mcp", "--data", body)).contains("invalid_token");
  }

  @Test
  void theMcpServerAnswersSseOnItsSsePathAndBatchesAsArrays() throws Exception {
    String auth = "Authorization: Bearer " + MCP_TOKEN;
    String call =
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
            + "\"create_issue\",\"arguments\":{\"repo\":\"acme/repo-a\",\"title\":\"t\"}}}";
    assertThat(curl("https://mcp.test/mcp/sse", "-H", auth, "--data", call))
        .startsWith("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,")
        .contains("created issue #1 in acme/repo-a");
    String batch =
        "["
            + call
            + ",{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
            + "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/list\"}]";
    assertThat(curl("https://mcp.test/mcp", "-H", auth, "--data", batch))
        .startsWith("[{\"jsonrpc\":\"2.0\",\"id\":7,")
        .contains("\"id\":8")
        .contains("\"name\":\"delete_repo\"");
    String note = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
    assertThat(curl("https://mcp.test/mcp", "-H", auth, "--data", note, "-w", "%{http_code}"))
        .isEqualTo("202");
  }

  @Test
  void theInternalApiAcceptsOnlyOpenBaoIdentityTokens() throws Exception {
    String jwt = identityToken();
    assertThat(curl("https://internal.test/orders", "-H", "Authorization: Bearer " + jwt))
        .contains("\"path\":\"/orders\"")
        .contains("\"sub\"");
    String forged = jwt.substring(0, jwt.lastIndexOf('.') + 1) + "AAAA";
    assertThat(curl("https://internal.test/orders", "-H", "Authorization: Bearer " + forged))
        .contains("invalid token");
  }

  /**
   * The resource server of OAuthE2E ({@code api.oauth.test}) holds a token to its issuer and its
   * own audience, not only the signature: a valid token of another issuer or for another audience
   * is refused. (An OpenBao identity token stands in for Keycloak's here: same RS256 and JWKS.)
   */
  @Test
  void theOAuthApiRefusesAnotherIssuerOrAudience() throws Exception {
    String jwt = identityToken();
    JsonObject claims =
        new JsonObject(
            new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8));
    String jwks = bao.address() + "/v1/identity/oidc/.well-known/keys";
    String iss = claims.getString("iss");
    String aud = String.valueOf(claims.getValue("aud"));
    assertThat(new JwtCheckingApi(vertx, jwks, null, iss, aud).verify(jwt).getString("sub"))
        .isEqualTo(claims.getString("sub"));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new JwtCheckingApi(vertx, jwks, null, "https://auth.test/realms/capgate", aud)
                    .verify(jwt))
        .hasMessageContaining("issuer is not");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new JwtCheckingApi(vertx, jwks, null, iss, "api.oauth.test").verify(jwt))
        .hasMessageContaining("audience is not api.oauth.test");
  }

  /** An App JWT as GitHub's docs describe it, with the claims a case wants to get wrong. */
  static String appJwt(java.security.PrivateKey key, Object iss, long iatOffset, long expOffset)
      throws Exception {
    long now = java.time.Instant.now().getEpochSecond();
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String input =
        b64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
            + "."
            + b64.encodeToString(
                new JsonObject()
                    .put("iat", now + iatOffset)
                    .put("exp", now + expOffset)
                    .put("iss", iss)
                    .encode()
                    .getBytes(StandardCharsets.UTF_8));
    java.security.Signature rsa = java.security.Signature.getInstance("SHA256withRSA");
    rsa.initSign(key);
    rsa.update(input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + b64.encodeToString(rsa.sign());
  }

  static String goodAppJwt() throws Exception {
    return appJwt(appKeys.getPrivate(), Long.toString(APP_ID), -60, 540);
  }

  /** {@code status\nbody} of one call (curl, so the status is what a client sees). */
  static String call(String method, String url, String bearer, String body) throws Exception {
    List<String> args = new ArrayList<>(List.of("-X", method, "-w", "\n%{http_code}"));
    if (bearer != null) {
      args.addAll(List.of("-H", "Authorization: Bearer " + bearer));
    }
    if (body != null) {
      args.addAll(List.of("-H", "content-type: application/json", "--data", body));
    }
    String out = curl(url, args.toArray(String[]::new));
    int nl = out.lastIndexOf('\n');
    return out.substring(nl + 1) + "\n" + out.substring(0, nl);
  }

  static final String ACCESS_TOKENS =
      "https://api.github.test/app/installations/" + INSTALLATION + "/access_tokens";
  static final String SCOPED =
      "{\"repositories\":[\"repo-a\"],\"permissions\":{\"contents\":\"read\",\"pull_requests\":\"write\"}}";

  /** A token for repo-a with contents:read and pull_requests:write, minted over HTTP. */
  static String mintScoped() throws Exception {
    String answer = call("POST", ACCESS_TOKENS, goodAppJwt(), SCOPED);
    assertThat(answer).startsWith("201\n");
    return new JsonObject(answer.substring(4)).getString("token");
  }

  @Test
  void theAppApiVerifiesTheAppJwtAndMintsAScopedToken() throws Exception {
    String answer = call("POST", ACCESS_TOKENS, goodAppJwt(), SCOPED);
    assertThat(answer).startsWith("201\n");
    JsonObject minted = new JsonObject(answer.substring(4));
    assertThat(minted.getString("token")).startsWith("ghs_");
    assertThat(java.time.Instant.parse(minted.getString("expires_at")))
        .isBetween(
            java.time.Instant.now().plusSeconds(3500), java.time.Instant.now().plusSeconds(3700));
    assertThat(minted.getJsonObject("permissions").getMap())
        .isEqualTo(Map.of("contents", "read", "pull_requests", "write"));
    assertThat(minted.getJsonArray("repositories").getJsonObject(0).getString("full_name"))
        .isEqualTo("acme/repo-a");

    java.security.KeyPairGenerator rsa = java.security.KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    var stranger = rsa.generateKeyPair().getPrivate();
    assertThat(call("POST", ACCESS_TOKENS, appJwt(stranger, "4242", -60, 540), SCOPED))
        .as("signed by another key")
        .startsWith("401\n");
    assertThat(call("POST", ACCESS_TOKENS, appJwt(appKeys.getPrivate(), "4243", -60, 540), SCOPED))
        .as("another App's iss")
        .startsWith("401\n");
    assertThat(call("POST", ACCESS_TOKENS, appJwt(appKeys.getPrivate(), 4242, -700, -60), SCOPED))
        .as("expired")
        .startsWith("401\n");
    assertThat(call("POST", ACCESS_TOKENS, appJwt(appKeys.getPrivate(), 4242, -60, 1200), SCOPED))
        .as("exp more than 10 minutes ahead")
        .startsWith("401\n");
    assertThat(call("POST", ACCESS_TOKENS, TOKEN, SCOPED))
        .as("a token instead of a JWT")
        .startsWith("401\n");
    assertThat(
            call(
                "POST",
                "https://api.github.test/app/installations/78/access_tokens",
                goodAppJwt(),
                SCOPED))
        .as("another installation")
        .startsWith("404\n");
    assertThat(call("POST", ACCESS_TOKENS, goodAppJwt(), "{\"repositories\":[\"repo-c\"]}"))
        .as("a repository the installation lacks")
        .startsWith("422\n");
    assertThat(
            call(
                "POST",
                ACCESS_TOKENS,
                goodAppJwt(),
                "{\"permissions\":{\"administration\":\"write\"}}"))
        .as("a permission the installation lacks")
        .startsWith("422\n");
  }

  @Test
  void anInstallationTokenWorksOnlyWithinItsRepositoriesAndPermissions() throws Exception {
    String token = mintScoped();
    String api = "https://api.github.test/repos/acme/";
    assertThat(call("GET", api + "repo-a", token, null)).startsWith("200\n");
    assertThat(call("GET", api + "repo-a/contents/README.md", token, null)).startsWith("200\n");
    assertThat(call("POST", api + "repo-a/pulls", token, "{\"title\":\"t\"}")).startsWith("201\n");
    assertThat(call("GET", api + "repo-b", token, null)).as("another repo").startsWith("404\n");
    assertThat(call("POST", api + "repo-b/pulls", token, "{}")).startsWith("404\n");
    assertThat(call("PUT", api + "repo-a/contents/README.md", token, "{}"))
        .as("write needs contents:write")
        .startsWith("403\n")
        .contains("Resource not accessible by integration");
    assertThat(call("DELETE", api + "repo-a", token, null))
        .as("delete needs administration:write")
        .startsWith("403\n");
    // The static token still does everything (the scenarios' Vault token).
    assertThat(call("PUT", api + "repo-a/contents/README.md", TOKEN, "{}")).startsWith("200\n");
  }

  @Test
  void theGitHostHoldsAnInstallationTokenToItsRepositoriesAndPermissions() throws Exception {
    String token = mintScoped();
    String basic =
        "http.extraHeader=Authorization: Basic "
            + Base64.getEncoder()
                .encodeToString(("x-access-token:" + token).getBytes(StandardCharsets.UTF_8));
    String base = "https://github.test:" + server.actualPort() + "/acme/";
    Path clone = dir.resolve("app-clone-" + System.nanoTime());
    ProcessResult ok = git("-c", basic, "clone", "-q", base + "repo-a.git", clone.toString());
    assertThat(ok.exitCode()).as(ok.stderr()).isZero();

    ProcessResult other =
        git("-c", basic, "clone", "-q", base + "repo-b.git", dir.resolve("app-b").toString());
    assertThat(other.exitCode()).isNotZero();
    assertThat(other.stderr()).as("git says so for a 404").contains("not found");

    Files.writeString(clone.resolve("change.txt"), "x\n");
    run(clone, "git", "add", ".");
    run(clone, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "change");
    ProcessResult push =
        exec(
            clone,
            Map.of("GIT_TERMINAL_PROMPT", "0", "GIT_SSL_CAINFO", caFile.toString()),
            List.of(
                "git",
                "-c",
                "http.curloptResolve=github.test:" + server.actualPort() + ":127.0.0.1",
                "-c",
                basic,
                "push",
                "-q",
                "origin",
                "main"));
    assertThat(push.exitCode()).as("a push with contents:read").isNotZero();
    assertThat(push.stderr()).contains("403");
  }

  @Test
  void aRevokedInstallationTokenIsRefused() throws Exception {
    String token = mintScoped();
    assertThat(call("GET", "https://api.github.test/repos/acme/repo-a", token, null))
        .startsWith("200\n");
    assertThat(call("DELETE", "https://api.github.test/installation/token", token, null))
        .startsWith("204\n");
    assertThat(call("GET", "https://api.github.test/repos/acme/repo-a", token, null))
        .startsWith("401\n")
        .contains("Bad credentials");
    assertThat(call("DELETE", "https://api.github.test/installation/token", token, null))
        .startsWith("401\n");
  }

  /** An identity JWT: a userpass login gives a token with an entity, which may mint it. */
  static String identityToken() {
    String suffix = Long.toHexString(System.nanoTime());
    bao.request("POST", "sys/auth/userpass-" + suffix, "{\"type\":\"userpass\"}");
    bao.request(
        "POST",
        "identity/oidc/key/it-" + suffix,
        "{\"allowed_client_ids\":[\"*\"],\"algorithm\":\"RS256\"}");
    bao.request(
        "POST",
        "identity/oidc/role/internal-" + suffix,
        "{\"key\":\"it-" + suffix + "\",\"ttl\":\"5m\"}");
    bao.request(
        "PUT",
        "sys/policies/acl/jwt-" + suffix,
        "{\"policy\":\"path \\\"identity/oidc/token/internal-"
            + suffix
            + "\\\" { capabilities = [\\\"read\\\"] }\"}");
    bao.request(
        "POST",
        "auth/userpass-" + suffix + "/users/agent",
        "{\"password\":\"pw-" + suffix + "\",\"token_policies\":\"jwt-" + suffix + "\"}");
    String login =
        bao.request(
            "POST",
            "auth/userpass-" + suffix + "/login/agent",
            "{\"password\":\"pw-" + suffix + "\"}");
    String token = new JsonObject(login).getJsonObject("auth").getString("client_token");
    try {
      var http = java.net.http.HttpClient.newHttpClient();
      var response =
          http.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(
                          bao.address() + "/v1/identity/oidc/token/internal-" + suffix))
                  .header("X-Vault-Token", token)
                  .GET()
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      return new JsonObject(response.body()).getJsonObject("data").getString("token");
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  static String curl(String url, String... extra) throws Exception {
    String host = java.net.URI.create(url).getHost();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "curl",
                "-sS",
                "--cacert",
                caFile.toString(),
                "--resolve",
                host + ":" + server.actualPort() + ":127.0.0.1"));
    cmd.addAll(List.of(extra));
    cmd.add(url.replace(host, host + ":" + server.actualPort()));
    ProcessResult r = exec(null, Map.of(), cmd);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    return r.stdout();
  }

  static ProcessResult git(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "git",
                "-c",
                "http.curloptResolve=github.test:" + server.actualPort() + ":127.0.0.1"));
    cmd.addAll(List.of(args));
    // GIT_SSL_CAINFO wins over http.sslCAInfo, and machines often set it: set it ourselves.
    return exec(null, Map.of("GIT_TERMINAL_PROMPT", "0", "GIT_SSL_CAINFO", caFile.toString()), cmd);
  }

  /** An empty bare repository on branch main, as the fake GitHub serves it. */
  static void bareRepo(Path repo) throws Exception {
    run(null, "git", "init", "-q", "--bare", "-b", "main", repo.toString());
  }

  static void run(Path cwd, String... cmd) throws Exception {
    ProcessResult r = exec(cwd, Map.of(), List.of(cmd));
    assertThat(r.exitCode()).as(String.join(" ", cmd) + ": " + r.stderr()).isZero();
  }

  static ProcessResult exec(Path cwd, Map<String, String> env, List<String> cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (cwd != null) {
      pb.directory(cwd.toFile());
    }
    pb.environment().putAll(env);
    Process p = pb.start();
    var out = p.getInputStream().readAllBytes();
    var err = p.getErrorStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new ProcessResult(
        p.exitValue(),
        new String(out, StandardCharsets.UTF_8),
        new String(err, StandardCharsets.UTF_8));
  }
}
