package dev.capgate.sidecar.dataplane;

import static dev.capgate.sidecar.dataplane.KeycloakInPod.REALM;
import static dev.capgate.sidecar.dataplane.KeycloakInPod.TOKEN_URL;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.OAuthCredential;
import dev.capgate.api.v1alpha1.TokenExchange;
import dev.capgate.api.v1alpha1.VaultField;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.testkit.KeycloakServer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Per-user OAuth credentials (issue 15 §3) on real components: Keycloak as the authorization server
 * (over TLS, as {@code keycloak.test}), OpenBao holding the user's grant and the client secret, the
 * real sidecar in a pod namespace, and REST upstreams that verify each access token's signature
 * against Keycloak's JWKS, its issuer, expiry and audience.
 *
 * <p>The realm revokes a refresh token once used ({@code revokeRefreshToken}), so the sidecar's
 * write-back of the rotated token is what keeps the grant alive, and access tokens live 20 s, so a
 * revoked grant shows within a test.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OAuthCredentialsIT {
  private static final String USER = "alice@example.com";

  private static PodNetns pod;
  private static KeycloakServer keycloak;
  private static AudienceCheckingUpstream userApi;
  private static AudienceCheckingUpstream apiA;
  private static AudienceCheckingUpstream apiB;
  private static VaultKv vault;
  private static String aliceId;
  private static String seededRefreshToken;
  private static final String CLIENT_SECRET = "cs-" + UUID.randomUUID();
  private static final String ALICE_PASSWORD = "pw-" + UUID.randomUUID();
  private static final List<Command.Result> outputs = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    pod = PodNetns.create("OAuthCredentialsIT");
    assertThat(pod.runInit().requireSuccess().exitCode()).isZero();
    keycloak = KeycloakInPod.keycloak(pod);
    keycloak.start();
    configureRealm();
    aliceId = keycloak.userId(REALM, "alice");

    // Alice's grant, as an authorization-code flow would have left it (seeded here by password).
    JsonNode grant =
        keycloak.token(
            REALM,
            Map.of(
                "grant_type", "password",
                "client_id", "capgate-sidecar",
                "client_secret", CLIENT_SECRET,
                "username", "alice",
                "password", ALICE_PASSWORD));
    seededRefreshToken = grant.path("refresh_token").asText();
    assertThat(seededRefreshToken).as(grant.path("error").asText()).isNotEmpty();
    vault =
        new VaultKv()
            .put("oauth/" + USER, "refresh_token", seededRefreshToken)
            .put("clients/capgate-sidecar", "client_secret", CLIENT_SECRET);

    userApi = KeycloakInPod.api(pod, keycloak, "account", "api-user.test", 9445);
    apiA = KeycloakInPod.api(pod, keycloak, "api-a", "api-a.test", 9443);
    apiB = KeycloakInPod.api(pod, keycloak, "api-b", "api-b.test", 9444);
    pod.startUpstreams(vault.address());
    KeycloakInPod.resolveInPod(pod, "api-user.test", "api-a.test", "api-b.test");

    VaultField clientSecret = new VaultField(vault.path("clients/capgate-sidecar"), null);
    OAuthCredential userGrant =
        new OAuthCredential(
            TOKEN_URL,
            "capgate-sidecar",
            clientSecret,
            null,
            new VaultField(vault.path("oauth/{{user}}"), null),
            null);
    OAuthCredential exchangeForA =
        new OAuthCredential(
            TOKEN_URL,
            "capgate-sidecar",
            clientSecret,
            "api-a",
            null,
            new TokenExchange("user-grant", null, null, List.of("api-a"), null));
    String session =
        SessionSpecs.session("oauth")
            .credential(AgentSessionBuilder.oauth("user-grant", userGrant).bearer().build())
            .credential(AgentSessionBuilder.oauth("api-a", exchangeForA).bearer().build())
            .egress(
                rule("user-api").hosts("api-user.test").ports(9445).credential("user-grant"),
                rule("api-a").hosts("api-a.test").ports(9443).credential("api-a"),
                // Policy "wrong" on purpose: api-a's token sent to api-b, which must refuse it.
                rule("api-b").hosts("api-b.test").ports(9444).credential("api-a"))
            .json();
    pod.startSidecar(session, vault.readUpdateToken(), List.of());
  }

  private static void configureRealm() {
    KeycloakInPod.createRealm(
        keycloak,
        Map.of("accessTokenLifespan", 20, "revokeRefreshToken", true, "refreshTokenMaxReuse", 0));
    KeycloakInPod.createSidecarClient(
        keycloak,
        CLIENT_SECRET,
        Map.of(
            "directAccessGrantsEnabled",
            true, // only to seed alice's grant in this test
            "attributes",
            Map.of("standard.token.exchange.enabled", "true")));
    for (String api : List.of("api-a", "api-b")) {
      keycloak.adminOk(
          "POST",
          "/admin/realms/" + REALM + "/clients",
          Map.of("clientId", api, "publicClient", false, "standardFlowEnabled", false));
      // Standard token exchange (V2) grants an audience only if a scope of the requester adds it.
      keycloak.adminOk(
          "POST",
          "/admin/realms/" + REALM + "/client-scopes",
          Map.of(
              "name",
              api,
              "protocol",
              "openid-connect",
              "attributes",
              Map.of("include.in.token.scope", "true"),
              "protocolMappers",
              List.of(
                  Map.of(
                      "name",
                      "audience-" + api,
                      "protocol",
                      "openid-connect",
                      "protocolMapper",
                      "oidc-audience-mapper",
                      "config",
                      Map.of(
                          "included.client.audience", api,
                          "access.token.claim", "true",
                          "id.token.claim", "false")))));
    }
    String sidecarClient = KeycloakInPod.clientUuid(keycloak, KeycloakInPod.SIDECAR_CLIENT);
    for (JsonNode scope :
        keycloak.adminOk("GET", "/admin/realms/" + REALM + "/client-scopes", null).json()) {
      if (scope.path("name").asText().startsWith("api-")) {
        keycloak.adminOk(
            "PUT",
            "/admin/realms/"
                + REALM
                + "/clients/"
                + sidecarClient
                + "/optional-client-scopes/"
                + scope.path("id").asText(),
            null);
      }
    }
    keycloak.adminOk(
        "POST",
        "/admin/realms/" + REALM + "/users",
        Map.of(
            "username",
            "alice",
            "email",
            USER,
            "firstName",
            "Alice",
            "lastName",
            "Example",
            "emailVerified",
            true,
            "enabled",
            true,
            "credentials",
            List.of(Map.of("type", "password", "value", ALICE_PASSWORD, "temporary", false))));
  }

  @AfterAll
  static void stop() {
    Stream.of(userApi, apiA, apiB)
        .filter(java.util.Objects::nonNull)
        .forEach(AudienceCheckingUpstream::close);
    if (pod != null) {
      pod.close();
    }
    if (keycloak != null) {
      keycloak.stop();
    }
  }

  private static Command.Result curl(String url) {
    Command.Result r = AgentCurl.trusting(pod, pod.podCaCert().toString(), url);
    outputs.add(r);
    return r;
  }

  private static long tokenGrantsInLog(String grant) {
    return pod.log("sidecar.log")
        .lines()
        .filter(l -> l.contains("access token obtained (" + grant))
        .count();
  }

  @Test
  @Order(1)
  void refresh_grant_gives_a_token_the_upstream_accepts_as_alice_and_it_is_cached() {
    // Five agents at once (one grant in flight, shared), then five more one after another (cached).
    Command.Result together =
        pod.asAgent(
            Map.of(),
            Duration.ofSeconds(60),
            "sh",
            "-c",
            "d=$(mktemp -d); for i in 1 2 3 4 5; do curl -s -m 30 --cacert "
                + pod.podCaCert()
                + " -o $d/$i -w '%{http_code}\\n' https://api-user.test:9445/whoami & done;"
                + " wait; for f in $d/*; do cat $f; echo; done; rm -rf $d");
    outputs.add(together);
    List<String> lines = together.stdout().lines().filter(l -> !l.isBlank()).toList();
    assertThat(lines.stream().filter(l -> l.equals("200")).count())
        .as(together.all() + pod.log("sidecar.log"))
        .isEqualTo(5);
    Set<String> jtis = new HashSet<>();
    for (String line : lines) {
      if (line.startsWith("{")) {
        JsonObject seen = new JsonObject(line);
        assertThat(seen.getString("sub")).isEqualTo(aliceId);
        assertThat(seen.getString("azp")).isEqualTo("capgate-sidecar");
        jtis.add(seen.getString("jti"));
      }
    }
    for (int i = 0; i < 5; i++) {
      Command.Result r = curl("https://api-user.test:9445/whoami");
      assertThat(AgentCurl.status(r)).as(r.all() + pod.log("sidecar.log")).isEqualTo(200);
      JsonObject seen = new JsonObject(AgentCurl.body(r));
      assertThat(seen.getString("sub")).isEqualTo(aliceId);
      jtis.add(seen.getString("jti"));
    }
    // One token, one refresh_token grant, for ten requests.
    assertThat(jtis).hasSize(1);
    assertThat(tokenGrantsInLog("refresh_token grant")).isEqualTo(1);
    System.out.println(
        "[oauth] refresh grant: 10 requests (5 concurrent), 1 token call, 1 access token; upstream"
            + " saw sub "
            + aliceId);
  }

  @Test
  @Order(3)
  void the_rotated_refresh_token_is_written_back_to_vault_and_the_old_one_is_dead() {
    JsonObject secret = vault.read("oauth/" + USER);
    String stored = secret.getJsonObject("data").getString("refresh_token");
    assertThat(stored).isNotEmpty().isNotEqualTo(seededRefreshToken);
    assertThat(secret.getJsonObject("metadata").getLong("version")).isEqualTo(2L);
    assertThat(pod.log("sidecar.log")).contains("rotated refresh token written to Vault path");
    // Keycloak revokes a used refresh token: without the write-back the grant would be lost.
    JsonNode old =
        keycloak.token(
            REALM,
            Map.of(
                "grant_type",
                "refresh_token",
                "client_id",
                "capgate-sidecar",
                "client_secret",
                CLIENT_SECRET,
                "refresh_token",
                seededRefreshToken));
    assertThat(old.path("error").asText()).isEqualTo("invalid_grant");
  }

  @Test
  @Order(2)
  void token_exchange_gives_an_audience_bound_token_that_only_its_audience_accepts() {
    Command.Result a = curl("https://api-a.test:9443/whoami");
    assertThat(AgentCurl.status(a)).as(a.all() + pod.log("sidecar.log")).isEqualTo(200);
    JsonObject seen = new JsonObject(AgentCurl.body(a));
    assertThat(seen.getString("sub")).isEqualTo(aliceId);
    assertThat(String.valueOf(seen.getValue("aud"))).isEqualTo("api-a");
    assertThat(seen.getLong("exp") - Instant.now().getEpochSecond()).isBetween(1L, 20L);

    Command.Result b = curl("https://api-b.test:9444/whoami");
    assertThat(AgentCurl.status(b)).as(b.all()).isEqualTo(401);
    assertThat(AgentCurl.body(b)).contains("audience", "is not api-b");
    assertThat(tokenGrantsInLog("token exchange")).isEqualTo(1);
    assertThat(apiB.received()).isEqualTo(apiA.received()).hasSize(1);
    System.out.println(
        "[oauth] token exchange: aud api-a accepted by api-a (sub "
            + aliceId
            + "), refused by api-b: "
            + AgentCurl.body(b));
  }

  @Test
  @Order(4)
  void a_revoked_grant_fails_closed_with_a_503_naming_the_reason() {
    keycloak.adminOk("POST", "/admin/realms/" + REALM + "/users/" + aliceId + "/logout", null);
    Instant revoked = Instant.now();
    // The cached access token is served until shortly before it expires (20 s tokens); then the
    // refresh is refused.
    Command.Result r = null;
    Instant deadline = revoked.plus(Duration.ofSeconds(40));
    while (Instant.now().isBefore(deadline)) {
      r = curl("https://api-user.test:9445/whoami");
      if (AgentCurl.status(r) == 503) {
        break;
      }
      sleep(1000);
    }
    assertThat(AgentCurl.status(r)).as(r.all() + pod.log("sidecar.log")).isEqualTo(503);
    // The agent learns which credential failed; the reason is on the audit line (and `kubectl
    // capgate explain <requestId>` shows it), as for every credential.
    JsonObject problem = new JsonObject(AgentCurl.body(r));
    assertThat(problem.getString("error")).isEqualTo("credential unavailable: user-grant");
    JsonObject audit =
        AuditLines.awaitLast(pod, "api-user.test", "credential 'user-grant' unavailable");
    assertThat(audit.getString("decision")).isEqualTo("error");
    assertThat(audit.getString("reason"))
        .contains("invalid_grant", "the user must authorize again");
    System.out.println(
        "[oauth] grant revoked in Keycloak; first 503 after "
            + Duration.between(revoked, Instant.now()).toMillis()
            + " ms: "
            + audit.getString("reason"));
  }

  @Test
  @Order(5)
  void no_token_or_secret_appears_in_any_output_or_log() throws Exception {
    Set<String> secrets = new HashSet<>();
    secrets.add(seededRefreshToken);
    secrets.add(vault.read("oauth/" + USER).getJsonObject("data").getString("refresh_token"));
    secrets.add(CLIENT_SECRET);
    secrets.add(ALICE_PASSWORD);
    secrets.addAll(userApi.received());
    secrets.addAll(apiA.received());
    assertThat(secrets).hasSizeGreaterThanOrEqualTo(6);
    int searched = KeycloakInPod.assertNoSecretIn(secrets, outputs, pod, keycloak);
    System.out.println(
        "[oauth] "
            + secrets.size()
            + " token/secret values searched in "
            + searched
            + " outputs and logs: none found");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
