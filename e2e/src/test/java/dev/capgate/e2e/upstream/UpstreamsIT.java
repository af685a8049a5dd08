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
    run(
        null,
        "git",
        "init",
        "-q",
        "--bare",
        "-b",
        "main",
        git.resolve("acme/repo-a.git").toString());
    Path work = dir.resolve("work");
    run(null, "git", "init", "-q", "-b", "main", work.toString());
    Files.writeString(work.resolve("README.md"), "repo-a\n");
    run(work, "git", "add", ".");
    run(work, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
    run(work, "git", "push", "-q", git.resolve("acme/repo-a.git").toString(), "main");

    vertx = Vertx.vertx();
    Upstreams upstreams =
        new Upstreams()
            .host("api.github.test", new GitHubStyleApi(TOKEN))
            .host("github.test", new GitSmartHttp(vertx, git, TOKEN))
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
  void theInternalApiAcceptsOnlyOpenBaoIdentityTokens() throws Exception {
    String jwt = identityToken();
    assertThat(curl("https://internal.test/orders", "-H", "Authorization: Bearer " + jwt))
        .contains("\"path\":\"/orders\"")
        .contains("\"sub\"");
    String forged = jwt.substring(0, jwt.lastIndexOf('.') + 1) + "AAAA";
    assertThat(curl("https://internal.test/orders", "-H", "Authorization: Bearer " + forged))
        .contains("invalid token");
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
