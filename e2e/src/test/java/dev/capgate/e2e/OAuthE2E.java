package dev.capgate.e2e;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.oauth;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.OAuthCredential;
import dev.capgate.api.v1alpha1.VaultField;
import dev.capgate.common.tls.PemTrust;
import dev.capgate.testkit.ProcessResult;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 15 §3 on the real cluster: a session whose credential is Alice's own OAuth grant (a
 * Keycloak refresh token in OpenBao under her path). The sidecar exchanges it for an access token
 * at the stack's Keycloak ({@code auth.test}, reached from the pod), the upstream {@code
 * api.oauth.test} accepts it only with the realm's signature, issuer, expiry and its own audience;
 * the realm's refresh tokens are single-use, so the sidecar writes the rotated one back (the KV
 * version grows, through the operator-issued session token's {@code update} on Alice's path);
 * logging Alice out in Keycloak revokes the grant, and once the cached access token (15 s) is due
 * the next call is a 503 whose reason is on the audit line. Values read here are compared, never
 * printed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OAuthE2E {
  static final String USER = "alice@example.com";
  static final String GRANT_PATH = "secret/data/oauth/" + USER;
  static AgentSandbox agent;
  static int versionBefore;

  static AgentSessionBuilder session(String name) {
    Stack stack = Stack.get();
    String tokenUrl =
        "https://"
            + stack.valueOr("CAPGATE_E2E_AUTH_HOST", "auth.test")
            + "/realms/"
            + realm()
            + "/protocol/openid-connect/token";
    OAuthCredential grant =
        new OAuthCredential(
            tokenUrl,
            "capgate-sidecar",
            new VaultField("secret/data/oauth-clients/capgate-sidecar", null),
            null,
            new VaultField("secret/data/oauth/{{user}}", null),
            null);
    return Sessions.alice(name)
        .credential(oauth("user-grant", grant).bearer())
        .egress(rule("oauth-api").hosts("api.oauth.test").methods(GET).credential("user-grant"));
  }

  @BeforeAll
  static void start() {
    versionBefore = kvVersion();
    agent = AgentSandbox.start("oauth", session("oauth-grant"));
  }

  @AfterAll
  static void stop() {
    try {
      // Every refresh token the sidecar wrote (all KV versions) joins the secret sweep, and Alice
      // gets a new grant: the stack serves the next run as `up` left it.
      keepForTheSweep(grantHistory());
      restoreGrant();
    } finally {
      if (agent != null) {
        agent.close();
      }
    }
  }

  @Test
  @Order(1)
  void thePodReachesTheUpstreamAsAliceWithATokenForItsAudience() {
    ProcessResult r = curl();
    assertThat(r.stdout()).as(r.stderr()).contains("status=200");
    JsonObject seen = new JsonObject(body(r));
    assertThat(seen.getString("preferred_username")).isEqualTo("alice");
    assertThat(seen.getString("aud")).contains("api.oauth.test");
    String evidence =
        "oauth: the pod's GET https://api.oauth.test/whoami → 200; the upstream verified Keycloak's"
            + " signature, iss, exp and aud and saw user "
            + seen.getString("preferred_username")
            + " (sub "
            + seen.getString("sub")
            + "), aud "
            + seen.getString("aud");
    System.out.println(evidence);
    Transcript.note(evidence);
  }

  @Test
  @Order(2)
  void theRotatedRefreshTokenWasWrittenBackToAlicesPath() {
    // Keycloak revokes a used refresh token here: the grant survives only through the write-back.
    int version = versionBefore;
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (version <= versionBefore && System.nanoTime() < deadline) {
      AgentSandbox.sleep(500);
      version = kvVersion();
    }
    assertThat(version)
        .as("KV version of %s after the first call", GRANT_PATH)
        .isGreaterThan(versionBefore);
    String current = refreshToken(version);
    String before = refreshToken(versionBefore);
    assertThat(current).isNotEmpty().isNotEqualTo(before);
    // The grant the stack seeded is spent: Keycloak refuses it now.
    JsonObject reuse = refreshGrant(before);
    assertThat(reuse.getString("error")).isEqualTo("invalid_grant");
    String evidence =
        "oauth: rotated refresh token written back to "
            + GRANT_PATH
            + " (KV version "
            + versionBefore
            + " → "
            + version
            + "); the seeded one is spent (Keycloak: "
            + reuse.getString("error")
            + ")";
    System.out.println(evidence);
    Transcript.note(evidence);
  }

  @Test
  @Order(3)
  void aGrantRevokedInKeycloakFailsClosedWithA503AndItsReasonOnTheAuditLine() {
    String admin = adminToken();
    JsonArray users =
        new JsonArray(
            keycloak("GET", "/admin/realms/" + realm() + "/users?exact=true&username=alice", admin)
                .body());
    String aliceId = users.getJsonObject(0).getString("id");
    // "Log out everywhere": Keycloak ends Alice's sessions, and with them the refresh token.
    HttpResponse<String> logout =
        keycloak("POST", "/admin/realms/" + realm() + "/users/" + aliceId + "/logout", admin);
    assertThat(logout.statusCode()).isEqualTo(204);
    long t0 = System.nanoTime();
    ProcessResult r = curl();
    while (!r.stdout().contains("status=503")
        && System.nanoTime() - t0 < Duration.ofSeconds(60).toNanos()) {
      AgentSandbox.sleep(1000);
      r = curl();
    }
    long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
    assertThat(r.stdout()).as(r.stderr()).contains("status=503");
    assertThat(new JsonObject(body(r)).getString("error"))
        .isEqualTo("credential unavailable: user-grant");
    JsonObject audit = auditLine("credential 'user-grant' unavailable");
    assertThat(audit.getString("decision")).isEqualTo("error");
    assertThat(audit.getString("reason")).contains("invalid_grant", "must authorize again");
    String evidence =
        "oauth: Alice logged out in Keycloak → first 503 after "
            + ms
            + " ms (access tokens live 15 s); audit reason: "
            + audit.getString("reason");
    System.out.println(evidence);
    Transcript.note(evidence);
  }

  // --- the pod -------------------------------------------------------------------------------

  private static ProcessResult curl() {
    String script = "curl -sS -w '\\nstatus=%{http_code}' https://api.oauth.test/whoami";
    ProcessResult r = agent.sh(script);
    System.out.println("$ " + script + "\n" + r.stdout() + r.stderr());
    return r;
  }

  private static String body(ProcessResult r) {
    String out = r.stdout();
    return out.substring(0, out.lastIndexOf("\nstatus="));
  }

  private static JsonObject auditLine(String reason) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      String[] lines = agent.sidecarLog().split("\n");
      for (int i = lines.length - 1; i >= 0; i--) {
        String l = lines[i];
        if (l.startsWith("{") && l.contains("api.oauth.test") && l.contains(reason)) {
          return new JsonObject(l);
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no audit line for api.oauth.test with " + reason);
      }
      AgentSandbox.sleep(300);
    }
  }

  // --- OpenBao (root token of the stack; values compared, never printed) -----------------------

  private static int kvVersion() {
    JsonObject meta =
        vault("GET", "secret/metadata/oauth/" + USER, null).getJsonObject("data", new JsonObject());
    return meta.getInteger("current_version", 0);
  }

  private static String refreshToken(int version) {
    return vault("GET", GRANT_PATH + "?version=" + version, null)
        .getJsonObject("data")
        .getJsonObject("data")
        .getString("refresh_token", "");
  }

  private static java.util.List<String> grantHistory() {
    java.util.List<String> tokens = new java.util.ArrayList<>();
    int current = kvVersion();
    for (int v = 1; v <= current; v++) {
      String t = refreshToken(v);
      if (!t.isEmpty()) {
        tokens.add(t);
      }
    }
    return tokens;
  }

  private static JsonObject vault(String method, String path, JsonObject body) {
    Stack stack = Stack.get();
    try {
      String token =
          Files.readString(Path.of(stack.value("CAPGATE_E2E_VAULT_ROOT_TOKEN_FILE"))).strip();
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(stack.vaultAddress() + "/v1/" + path))
              .header("X-Vault-Token", token)
              .timeout(Duration.ofSeconds(20));
      b.method(
          method,
          body == null
              ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofString(body.encode()));
      HttpResponse<String> r =
          client(stack.value("CAPGATE_E2E_VAULT_CA"))
              .send(b.build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("OpenBao %s %s", method, path).isBetween(200, 299);
      return r.body().isBlank() ? new JsonObject() : new JsonObject(r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  // --- Keycloak (the stack's admin password and Alice's, from their files) ---------------------

  private static String realm() {
    return Stack.get().valueOr("CAPGATE_E2E_OAUTH_REALM", "capgate");
  }

  private static String secret(String key) {
    try {
      return Files.readString(Path.of(Stack.get().value(key))).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String adminToken() {
    JsonObject t =
        tokenCall(
            "master",
            Map.of(
                "grant_type",
                "password",
                "client_id",
                "admin-cli",
                "username",
                "capgate-admin",
                "password",
                secret("CAPGATE_E2E_KEYCLOAK_ADMIN_PASSWORD_FILE")));
    assertThat(t.containsKey("access_token")).as("admin token: %s", t.getString("error")).isTrue();
    return t.getString("access_token");
  }

  private static JsonObject refreshGrant(String refreshToken) {
    return tokenCall(
        realm(),
        Map.of(
            "grant_type",
            "refresh_token",
            "client_id",
            "capgate-sidecar",
            "client_secret",
            secret("CAPGATE_E2E_OAUTH_CLIENT_SECRET_FILE"),
            "refresh_token",
            refreshToken));
  }

  /**
   * A new grant for Alice (password grant of the test user), in OpenBao: the stack as `up` left it.
   */
  private static void restoreGrant() {
    JsonObject grant =
        tokenCall(
            realm(),
            Map.of(
                "grant_type",
                "password",
                "client_id",
                "capgate-sidecar",
                "client_secret",
                secret("CAPGATE_E2E_OAUTH_CLIENT_SECRET_FILE"),
                "username",
                "alice",
                "password",
                secret("CAPGATE_E2E_OAUTH_ALICE_PASSWORD_FILE")));
    String refresh = grant.getString("refresh_token", "");
    assertThat(refresh).as("a new grant for alice: %s", grant.getString("error")).isNotEmpty();
    keepForTheSweep(java.util.List.of(refresh));
    vault(
        "POST",
        GRANT_PATH,
        new JsonObject().put("data", new JsonObject().put("refresh_token", refresh)));
  }

  /** Appends refresh tokens to the stack's grant file, one a line, which the secret sweep reads. */
  private static void keepForTheSweep(java.util.List<String> tokens) {
    String file = Stack.get().valueOr("CAPGATE_E2E_OAUTH_REFRESH_TOKEN_FILE", "");
    if (file.isEmpty() || tokens.isEmpty()) {
      return;
    }
    try {
      Files.writeString(
          Path.of(file), "\n" + String.join("\n", tokens) + "\n", StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonObject tokenCall(String realmName, Map<String, String> form) {
    String body =
        form.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(
                    URI.create(
                        keycloakUrl() + "/realms/" + realmName + "/protocol/openid-connect/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    return new JsonObject(r.body());
  }

  private static HttpResponse<String> keycloak(String method, String path, String bearer) {
    return send(
        HttpRequest.newBuilder(URI.create(keycloakUrl() + path))
            .header("Authorization", "Bearer " + bearer)
            .method(method, HttpRequest.BodyPublishers.noBody()));
  }

  private static String keycloakUrl() {
    return Stack.get().value("CAPGATE_E2E_KEYCLOAK_URL");
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return client(Stack.get().value("CAPGATE_E2E_UPSTREAM_CA"))
          .send(
              request.timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static HttpClient client(String caFile) {
    return HttpClient.newBuilder()
        .sslContext(PemTrust.sslContext(Path.of(caFile), "the stack's CA file"))
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }
}
