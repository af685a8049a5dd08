package dev.capgate.sidecar.dataplane;

import static dev.capgate.sidecar.dataplane.KeycloakInPod.REALM;
import static dev.capgate.sidecar.dataplane.KeycloakInPod.TOKEN_URL;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.OAuthCredential;
import dev.capgate.api.v1alpha1.SubjectTokenType;
import dev.capgate.api.v1alpha1.TokenExchange;
import dev.capgate.api.v1alpha1.VaultField;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.testkit.KeycloakServer;
import dev.capgate.testkit.OpenBaoServer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RFC 8693 with the session's own identity as the subject: the sidecar reads an OpenBao identity
 * token for the session's user (the {@code identity-token} engine) and exchanges it at Keycloak,
 * which trusts OpenBao's JWKS through an identity provider, for an access token of the user that
 * the upstream verifies. Keycloak needs its preview {@code token-exchange} feature (V1, external to
 * internal) with {@code admin-fine-grained-authz:v1} to say which client may exchange; the identity
 * provider must take the JWT as is ({@code isAccessTokenJWT}, {@code disableTypeClaimCheck}:
 * OpenBao's tokens have no {@code typ}).
 */
class OAuthIdentityExchangeIT {
  /**
   * Her name in OpenBao: the entity alias of the userpass login that stands for the session JWT's
   * login here (userpass names take no {@code @}; in a cluster the alias is the session's user).
   */
  private static final String LOGIN = "alice";

  private static final String CLIENT_SECRET = "cs-" + UUID.randomUUID();
  private static final ObjectMapper JSON = new ObjectMapper();

  private static PodNetns pod;
  private static KeycloakServer keycloak;
  private static AudienceCheckingUpstream userApi;
  private static final List<Command.Result> outputs = new ArrayList<>();
  private static String sidecarToken;

  @BeforeAll
  static void start() throws Exception {
    pod = PodNetns.create("OAuthIdentityExchangeIT");
    assertThat(pod.runInit().requireSuccess().exitCode()).isZero();
    keycloak = KeycloakInPod.keycloak(pod, "token-exchange", "admin-fine-grained-authz:v1");
    keycloak.start();

    // OpenBao: alice's entity (a userpass login stands for the session's JWT login), an identity
    // token role whose claims name her, and the sidecar's token = her login.
    OpenBaoServer bao = OpenBaoServer.shared();
    VaultKv kv = new VaultKv().put("clients/capgate-sidecar", "client_secret", CLIENT_SECRET);
    String mount = "up-" + UUID.randomUUID().toString().substring(0, 8);
    bao.request("POST", "sys/auth/" + mount, Map.of("type", "userpass"));
    String accessor =
        JSON.readTree(bao.request("GET", "sys/auth", null))
            .path("data")
            .path(mount + "/")
            .path("accessor")
            .asText();
    String key = "kc-" + mount;
    String role = "keycloak-" + mount;
    bao.request(
        "POST",
        "identity/oidc/key/" + key,
        Map.of("algorithm", "RS256", "allowed_client_ids", List.of("*")));
    bao.request(
        "POST",
        "identity/oidc/role/" + role,
        Map.of(
            "key",
            key,
            "ttl",
            "5m",
            "template",
            "{\"preferred_username\": {{identity.entity.aliases." + accessor + ".name}}}"));
    String brokerClientId =
        JSON.readTree(bao.request("GET", "identity/oidc/role/" + role, null))
            .path("data")
            .path("client_id")
            .asText();
    String policy = "sidecar-" + mount;
    bao.request(
        "PUT",
        "sys/policies/acl/" + policy,
        Map.of(
            "policy",
            "path \"identity/oidc/token/"
                + role
                + "\" { capabilities = [\"read\"] }\npath \""
                + kv.path("*")
                + "\" { capabilities = [\"read\"] }"));
    String password = "pw-" + UUID.randomUUID();
    bao.request(
        "POST",
        "auth/" + mount + "/users/" + LOGIN,
        Map.of("password", password, "token_policies", List.of(policy)));
    sidecarToken =
        JSON.readTree(
                bao.request(
                    "POST", "auth/" + mount + "/login/" + LOGIN, Map.of("password", password)))
            .path("auth")
            .path("client_token")
            .asText();
    JsonNode discovery =
        JSON.readTree(bao.request("GET", "identity/oidc/.well-known/openid-configuration", null));

    configureRealm(
        discovery.path("issuer").asText(), discovery.path("jwks_uri").asText(), brokerClientId);

    userApi = KeycloakInPod.api(pod, keycloak, "account", "api-user.test", 9445);
    pod.startUpstreams(kv.address());
    KeycloakInPod.resolveInPod(pod, "api-user.test");

    OAuthCredential exchange =
        new OAuthCredential(
            TOKEN_URL,
            "capgate-sidecar",
            new VaultField(kv.path("clients/capgate-sidecar"), null),
            null,
            null,
            new TokenExchange("identity", SubjectTokenType.JWT, "openbao", null, null));
    String session =
        SessionSpecs.session("oauth-identity")
            .credential(
                AgentSessionBuilder.identityToken("identity", "identity/oidc/token/" + role)
                    .bearer()
                    .build())
            .credential(AgentSessionBuilder.oauth("as-alice", exchange).bearer().build())
            .egress(rule("user-api").hosts("api-user.test").ports(9445).credential("as-alice"))
            .json();
    pod.startSidecar(session, sidecarToken, List.of());
  }

  private static void configureRealm(String issuer, String jwksUri, String brokerClientId) {
    KeycloakInPod.createRealm(keycloak, Map.of());
    KeycloakInPod.createSidecarClient(keycloak, CLIENT_SECRET, Map.of());
    Map<String, Object> config = new HashMap<>();
    config.put("issuer", issuer);
    config.put("useJwksUrl", "true");
    config.put("jwksUrl", jwksUri);
    config.put("validateSignature", "true");
    config.put("clientId", brokerClientId); // the aud of OpenBao's tokens
    config.put("clientSecret", "unused");
    config.put("clientAuthMethod", "client_secret_post");
    config.put("authorizationUrl", issuer + "/unused");
    config.put("tokenUrl", issuer + "/unused");
    config.put("syncMode", "IMPORT");
    config.put("isAccessTokenJWT", "true");
    config.put("disableTypeClaimCheck", "true");
    keycloak.adminOk(
        "POST",
        "/admin/realms/" + REALM + "/identity-provider/instances",
        Map.of("alias", "openbao", "providerId", "oidc", "enabled", true, "config", config));
    JsonNode permissions =
        keycloak
            .adminOk(
                "PUT",
                "/admin/realms/"
                    + REALM
                    + "/identity-provider/instances/openbao/management/permissions",
                Map.of("enabled", true))
            .json();
    String realmManagement = clientId("realm-management");
    String authz =
        "/admin/realms/" + REALM + "/clients/" + realmManagement + "/authz/resource-server";
    String policyId =
        keycloak
            .adminOk(
                "POST",
                authz + "/policy/client",
                Map.of(
                    "name",
                    "capgate-sidecar-exchanges",
                    "clients",
                    List.of(clientId("capgate-sidecar"))))
            .json()
            .path("id")
            .asText();
    String permission = permissions.path("scopePermissions").path("token-exchange").asText();
    Map<String, Object> update =
        JSON.convertValue(
            keycloak.adminOk("GET", authz + "/permission/scope/" + permission, null).json(),
            Map.class);
    update.put("policies", List.of(policyId));
    keycloak.adminOk("PUT", authz + "/permission/scope/" + permission, update);
  }

  private static String clientId(String clientId) {
    return KeycloakInPod.clientUuid(keycloak, clientId);
  }

  @AfterAll
  static void stop() {
    if (userApi != null) {
      userApi.close();
    }
    if (pod != null) {
      pod.close();
    }
    if (keycloak != null) {
      keycloak.stop();
    }
  }

  @Test
  void the_sessions_openbao_identity_is_exchanged_for_a_keycloak_token_of_the_same_user()
      throws Exception {
    Command.Result r =
        AgentCurl.trusting(pod, pod.podCaCert().toString(), "https://api-user.test:9445/whoami");
    outputs.add(r);
    assertThat(AgentCurl.status(r)).as(r.all() + pod.log("sidecar.log")).isEqualTo(200);
    JsonObject seen = new JsonObject(AgentCurl.body(r));
    assertThat(seen.getString("preferred_username")).isEqualTo(LOGIN);
    assertThat(seen.getString("azp")).isEqualTo("capgate-sidecar");
    String keycloakUser = keycloak.userId(REALM, LOGIN);
    assertThat(seen.getString("sub")).isEqualTo(keycloakUser);
    assertThat(pod.log("sidecar.log")).contains("access token obtained (token exchange");
    System.out.println(
        "[oauth] OpenBao identity token of "
            + LOGIN
            + " exchanged at Keycloak: the upstream saw sub "
            + keycloakUser
            + " ("
            + seen.getString("preferred_username")
            + ")");

    // Nothing the sidecar holds or obtained in any output or log.
    List<String> secrets = new ArrayList<>(userApi.received());
    secrets.add(CLIENT_SECRET);
    secrets.add(sidecarToken);
    KeycloakInPod.assertNoSecretIn(secrets, outputs, pod, keycloak);
  }
}
