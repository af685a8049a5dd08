package dev.capgate.e2e.upstream;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The private upstreams an agent reaches through Capgate in the end-to-end scenarios and the demo,
 * on one HTTPS port, routed by Host: a Git host (real {@code git http-backend} behind a front that
 * checks the token), a REST API in the style of GitHub's, an internal API that verifies
 * OpenBao-issued JWTs, a remote MCP server over HTTP, and package sources (a PEP 503 index, an npm
 * registry: {@link PackageIndexes}). Each one checks its credential for real: a request that
 * arrives without what Capgate injects fails here too.
 *
 * <pre>
 * java -cp ... dev.capgate.e2e.upstream.Upstreams --port 8443 --cert c.pem --key k.pem \
 *   --token &lt;github token&gt; (or --token-file f) --git-root /srv/git --jwks http://bao:8200/v1/identity/oidc/.well-known/keys [--jwks-ca bao-ca.crt] \
 *   --mcp-token &lt;token&gt; (or --mcp-token-file f) \
 *   [--github-app-id 1 --github-app-public-key-file app.pub.pem --github-app-installation 2] \
 *   [--oauth-jwks https://kc/realms/r/protocol/openid-connect/certs --oauth-jwks-ca ca.crt \
 *    --oauth-issuer https://auth.test/realms/r --oauth-audience api.oauth.test]
 * </pre>
 */
public final class Upstreams {
  private final Map<String, Consumer<HttpServerRequest>> byHost = new LinkedHashMap<>();
  private boolean accessLog;

  /** One JSON line per request on stdout: host, method, path, status, whether it was authorized. */
  public Upstreams withAccessLog() {
    accessLog = true;
    return this;
  }

  /**
   * The GitHub-style REST API for tests outside this package: the static {@code token} and, with
   * {@code app} (or null), that App's installation tokens.
   */
  public static Consumer<HttpServerRequest> githubApi(String token, GitHubApp app) {
    return new GitHubStyleApi(token, app);
  }

  public Upstreams host(String name, Consumer<HttpServerRequest> handler) {
    byHost.put(name, handler);
    return this;
  }

  public HttpServer listen(Vertx vertx, String host, int port, Path cert, Path key) {
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(host)
            .setPort(port)
            .setSsl(true)
            .setUseAlpn(true)
            .setKeyCertOptions(
                new PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString()));
    return vertx.createHttpServer(options).requestHandler(this::route).listen().await();
  }

  private void route(HttpServerRequest request) {
    String authority = request.authority() == null ? "" : request.authority().host();
    if (accessLog) {
      // What arrived, never a header value: the suite greps this log for the secrets too.
      request
          .response()
          .endHandler(
              v ->
                  System.out.println(
                      new io.vertx.core.json.JsonObject()
                          .put("host", authority)
                          .put("method", request.method().name())
                          .put("path", request.path())
                          .put("status", request.response().getStatusCode())
                          .put("version", request.version().alpnName())
                          .put(
                              "authorization",
                              request.getHeader("authorization") == null ? "absent" : "present")
                          .encode()));
    }
    Consumer<HttpServerRequest> handler = byHost.get(authority.toLowerCase(java.util.Locale.ROOT));
    if (handler == null) {
      Responses.json(request, 404, Map.of("message", "no such host here: " + authority));
    } else {
      handler.accept(request);
    }
  }

  public static void main(String[] args) {
    Map<String, String> flags = Flags.parse(args);
    Vertx vertx = Vertx.vertx();
    String token = secret(flags, "token");
    GitHubApp app = githubApp(flags);
    if (app != null) {
      app.withEvents(e -> System.out.println(e.encode()));
      if (flags.containsKey("github-app-tokens-file")) {
        // One value a line, for the suite's secret sweep; never printed.
        Path file = Path.of(flags.get("github-app-tokens-file"));
        app.withMintedTokens(
            t -> {
              try {
                java.nio.file.Files.writeString(
                    file,
                    t + "\n",
                    java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
      }
    }
    Upstreams upstreams =
        new Upstreams()
            .withAccessLog()
            .host("api.github.test", new GitHubStyleApi(token, app))
            .host(
                "github.test", new GitSmartHttp(vertx, Path.of(flags.get("git-root")), token, app))
            .host(
                "internal.test",
                new JwtCheckingApi(vertx, flags.get("jwks"), flags.getOrDefault("jwks-ca", null)))
            // Each MCP tool call that reached the server, as a JSON line (McpE2E reads them).
            .host(
                "mcp.test",
                new McpServer(secret(flags, "mcp-token"), e -> System.out.println(e.encode())))
            // A resource server for Keycloak's access tokens (OAuthE2E): the realm's JWKS, its
            // issuer and this API's audience; without --oauth-jwks (Kind) it refuses everything.
            .host("api.oauth.test", oauthApi(vertx, flags))
            // Package sources of the client matrix: a PEP 503 index that checks the injected token,
            // the same index open (for a tls: passthrough rule: nothing can be injected there),
            // npm.
            .host("pypi.test", PackageIndexes.pypi(token))
            .host("pypi-direct.test", PackageIndexes.pypi(null))
            .host("registry.npm.test", PackageIndexes.npm(token));
    HttpServer server =
        upstreams.listen(
            vertx,
            flags.getOrDefault("host", "0.0.0.0"),
            Integer.parseInt(flags.getOrDefault("port", "8443")),
            Path.of(flags.get("cert")),
            Path.of(flags.get("key")));
    System.out.println("{\"msg\":\"upstreams listening\",\"port\":" + server.actualPort() + "}");
  }

  /**
   * The GitHub App, when {@code --github-app-id} is given: {@code --github-app-public-key-file}
   * (PEM), {@code --github-app-installation} (id), {@code --github-app-account} (default acme),
   * {@code --github-app-repositories} (default repo-a,repo-b) and {@code --github-app-permissions}
   * (default contents:write,pull_requests:write,metadata:read).
   */
  static GitHubApp githubApp(Map<String, String> flags) {
    if (!flags.containsKey("github-app-id")) {
      return null;
    }
    try {
      return new GitHubApp(
          Long.parseLong(flags.get("github-app-id")),
          publicKey(
              java.nio.file.Files.readString(Path.of(flags.get("github-app-public-key-file")))),
          Long.parseLong(flags.get("github-app-installation")),
          flags.getOrDefault("github-app-account", "acme"),
          java.util.Set.copyOf(
              GitHubApp.parseList(flags.getOrDefault("github-app-repositories", "repo-a,repo-b"))),
          GitHubApp.parsePermissions(
              flags.getOrDefault(
                  "github-app-permissions", "contents:write,pull_requests:write,metadata:read")),
          java.time.Clock.systemUTC());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** An RSA public key from PEM ({@code BEGIN PUBLIC KEY}). */
  public static java.security.PublicKey publicKey(String pem) {
    String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    try {
      return java.security.KeyFactory.getInstance("RSA")
          .generatePublic(
              new java.security.spec.X509EncodedKeySpec(
                  java.util.Base64.getDecoder().decode(base64)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalArgumentException("not a PEM RSA public key", e);
    }
  }

  /** {@code --NAME value}, or {@code --NAME-file path} (keeps the value off the command line). */
  private static String secret(Map<String, String> flags, String name) {
    if (flags.containsKey(name + "-file")) {
      try {
        return java.nio.file.Files.readString(Path.of(flags.get(name + "-file"))).strip();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return flags.get(name);
  }

  private static Consumer<HttpServerRequest> oauthApi(Vertx vertx, Map<String, String> flags) {
    if (!flags.containsKey("oauth-jwks")) {
      return r -> Responses.json(r, 503, Map.of("error", "no authorization server on this stack"));
    }
    return new JwtCheckingApi(
        vertx,
        flags.get("oauth-jwks"),
        flags.getOrDefault("oauth-jwks-ca", null),
        flags.get("oauth-issuer"),
        flags.getOrDefault("oauth-audience", "api.oauth.test"));
  }
}
