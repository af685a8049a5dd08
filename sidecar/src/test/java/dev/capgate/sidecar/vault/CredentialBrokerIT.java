package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.VaultEngine;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.stack.CapturedLogs;
import dev.capgate.sidecar.stack.Jwts;
import dev.capgate.sidecar.stack.SessionIssuer;
import dev.capgate.sidecar.stack.Sessions;
import dev.capgate.sidecar.stack.VaultSetup;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.OpenBaoServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Credentials at egress time from a real OpenBao, with the session's own Vault identity (obtained
 * through {@link SessionIssuer}, a stand-in for the operator's endpoint, from OpenBao's JWT auth):
 * KV v2 (templated, cached), OpenBao identity tokens (JWTs verified against OpenBao's JWKS), two
 * credentials for one request, and failing closed while OpenBao is stopped or sealed.
 */
class CredentialBrokerIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String GITHUB_TOKEN = "ghp_brokerTestValue0123456789";
  private static final String NOT_MINE = "value-of-a-path-outside-the-policy";
  private static final SessionIdentity SESSION =
      new SessionIdentity("agents", "fix-issue-42", Sessions.USER, Sessions.AGENT, "payments");

  private static KubeControlPlane kube;
  private static OpenBaoServer bao;
  private static String namespace;
  private static VaultSetup.SessionJwtAuth jwt;
  private static String mount;
  private static SessionIssuer issuer;
  private static String kv;
  private static String oidcRole;
  private static String clientId;
  private static CapturedLogs logs;
  private static final Set<String> secrets = ConcurrentHashMap.newKeySet();

  @TempDir static Path dir;

  private VaultIdentity identity;
  private CredentialBroker broker;

  @BeforeAll
  static void stack() throws Exception {
    logs = CapturedLogs.start();
    kube = KubeControlPlane.shared();
    bao = OpenBaoServer.shared();
    namespace = kube.newNamespace("broker");
    kube.newServiceAccount(namespace, "sidecar");
    jwt = VaultSetup.sessionJwtAuth(bao);
    mount = jwt.mount();
    kv = bao.newKvMount();
    bao.putKv(kv + "/github/" + Sessions.USER, Map.of("token", GITHUB_TOKEN));
    bao.putKv(kv + "/agents/coding-agent/fix-issue-42", Map.of("api-key", "k-templated-123"));
    String forbidden = bao.newKvMount();
    bao.putKv(forbidden + "/x", Map.of("token", NOT_MINE));
    secrets.addAll(List.of(GITHUB_TOKEN, "k-templated-123", NOT_MINE));

    // An identity OIDC key and role, as an admin sets them up for an internal API.
    String key = "capgate-" + mount;
    oidcRole = "internal-api-" + mount;
    bao.request(
        "POST",
        "identity/oidc/key/" + key,
        Map.of("algorithm", "RS256", "allowed_client_ids", List.of("*")));
    bao.request("POST", "identity/oidc/role/" + oidcRole, Map.of("key", key, "ttl", "10s"));
    clientId =
        VaultSetup.read(bao, "identity/oidc/role/" + oidcRole)
            .path("data")
            .path("client_id")
            .asText(null);

    VaultSetup.policy(
        bao,
        "sidecar-" + mount,
        """
        path "%s/data/*" { capabilities = ["read"] }
        path "identity/oidc/token/%s" { capabilities = ["read"] }
        """
            .formatted(kv, oidcRole));
    VaultSetup.sessionRole(bao, jwt, "capgate-agent", List.of("sidecar-" + mount), "1h", "2h");
    issuer = SessionIssuer.start(bao, jwt);
    String identityToken =
        kube.serviceAccountToken(namespace, "sidecar", Duration.ofHours(1), "capgate");
    secrets.add(identityToken);
    issuer.grant(
        identityToken,
        new SessionIssuer.Grant(
            "capgate-agent",
            Sessions.USER,
            Sessions.AGENT,
            SESSION.namespace(),
            SESSION.name(),
            "agent-pod"));
    Files.writeString(dir.resolve("identity-token"), identityToken);
  }

  @AfterAll
  static void noSecretInAnyLogLine() {
    try {
      logs.assertNoLineHoldsAndClose(secrets);
    } finally {
      issuer.close();
    }
  }

  @BeforeEach
  void broker() {
    broker(Duration.ofSeconds(2));
  }

  private void broker(Duration kvTtl) {
    closeBroker();
    VaultClient vault = VaultClient.create(bao.address(), (Path) null, Duration.ofSeconds(5));
    RecordingLedger ledger = new RecordingLedger();
    identity =
        new VaultIdentity(
            vault,
            OperatorLogin.create(
                issuer.url(),
                issuer.caPem(),
                dir.resolve("identity-token"),
                vault,
                SESSION.namespace(),
                SESSION.name(),
                Duration.ofSeconds(10)),
            ledger,
            Clock.systemUTC());
    broker = new CredentialBroker(vault, identity, ledger, kvTtl, Clock.systemUTC());
  }

  @AfterEach
  void closeBroker() {
    if (broker != null) {
      try {
        secrets.add(identity.token());
      } catch (RuntimeException e) {
        // no token to remember
      }
      broker.endSession("test over");
      broker.close();
      identity.close();
    }
  }

  /**
   * Waits until the GitHub credential is served again after {@code event} (OpenBao back), and
   * prints how long that took.
   */
  private void awaitServedAgain(String event) {
    long t0 = System.nanoTime();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions()
        .until(() -> resolve(github()).reveal().equals(GITHUB_TOKEN));
    System.out.printf(
        "[measured] %s → credential served again after %d ms%n",
        event, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  private static Credential github() {
    return Sessions.credential("github", kv + "/data/github/{{user}}", "token", VaultEngine.KV2);
  }

  private static Credential internalApi() {
    return Sessions.credential(
        "internal-api", "identity/oidc/token/" + oidcRole, null, VaultEngine.IDENTITY_TOKEN);
  }

  private SecretValue resolve(Credential credential) throws Exception {
    SecretValue value =
        broker.resolve(credential, SESSION).toCompletableFuture().get(30, TimeUnit.SECONDS);
    secrets.add(value.reveal());
    return value;
  }

  private CredentialUnavailableException failure(Credential credential) throws Exception {
    try {
      resolve(credential);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(CredentialUnavailableException.class);
      CredentialUnavailableException failure = (CredentialUnavailableException) e.getCause();
      assertThat(failure.credential()).isEqualTo(credential.name());
      assertThat(failure.getMessage())
          .startsWith("credential '" + credential.name() + "' unavailable: ");
      secrets.forEach(s -> assertThat(failure.getMessage()).doesNotContain(s));
      return failure;
    }
    throw new AssertionError("resolving " + credential.name() + " should have failed");
  }

  @Test
  void
      a_kv2_secret_is_read_at_first_use_with_a_templated_path_and_served_from_the_cache_for_its_ttl()
          throws Exception {
    assertThat(resolve(github()).reveal()).isEqualTo(GITHUB_TOKEN);
    assertThat(
            resolve(
                    Sessions.credential(
                        "templated",
                        kv + "/data/{{namespace}}/{{agent}}/{{session}}",
                        "api-key",
                        VaultEngine.KV2))
                .reveal())
        .isEqualTo("k-templated-123");

    bao.putKv(kv + "/github/" + Sessions.USER, Map.of("token", GITHUB_TOKEN + "-v2"));
    try {
      assertThat(resolve(github()).reveal()).as("within the 2 s cache TTL").isEqualTo(GITHUB_TOKEN);
      long t0 = System.nanoTime();
      await()
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> resolve(github()).reveal().endsWith("-v2"));
      System.out.printf(
          "[measured] kv2 cache ttl 2 s: new value served after %d ms%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    } finally {
      bao.putKv(kv + "/github/" + Sessions.USER, Map.of("token", GITHUB_TOKEN));
    }
  }

  @Test
  void
      an_identity_token_is_fetched_on_first_use_verifies_against_the_jwks_and_is_cached_until_near_expiry()
          throws Exception {
    SecretValue first = resolve(internalApi());
    assertThat(resolve(internalApi()).reveal())
        .as("served from the cache")
        .isEqualTo(first.reveal());

    JsonNode claims = Jwts.verify(first.reveal(), bao.address());
    JsonNode entity =
        VaultSetup.read(bao, "identity/entity/id/" + claims.path("sub").asText("")).path("data");
    String entityId = entity.path("id").asText(null);
    assertThat(entityId)
        .as("the JWT's subject is an OpenBao entity")
        .isEqualTo(claims.path("sub").asText(null));
    assertThat(entity.get("aliases"))
        .extracting(
            v -> v.path("name").asText(null) + " at " + v.path("mount_accessor").asText(null))
        .as("that entity is the session's user (JWT auth alias), not a service account")
        .containsExactly(Sessions.USER + " at " + jwt.accessor());
    JsonNode token =
        VaultSetup.parse(
                bao.request(
                    "POST", "auth/token/lookup-accessor", Map.of("accessor", identity.accessor())))
            .path("data");
    assertThat(token.path("entity_id").asText(null)).isEqualTo(entityId);
    assertThat(claims.path("aud").asText(null)).isEqualTo(clientId);
    long exp = claims.path("exp").asLong(0);
    assertThat(exp - claims.path("iat").asLong(0)).isEqualTo(10);
    assertThat(first.expiresAt())
        .isBetween(Instant.ofEpochSecond(exp - 2), Instant.ofEpochSecond(exp + 2));

    long t0 = System.nanoTime();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> !resolve(internalApi()).reveal().equals(first.reveal()));
    System.out.printf(
        "[measured] identity token ttl 10 s: replaced after %d ms (served until 1/5 of its life is left)%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    assertThat(Instant.now()).as("replaced before it expired").isBefore(Instant.ofEpochSecond(exp));
  }

  @Test
  void two_credentials_for_one_request_are_both_resolved() throws Exception {
    List<SecretValue> values =
        broker
            .resolveAll(List.of(github(), internalApi()), SESSION)
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    values.forEach(v -> secrets.add(v.reveal()));

    assertThat(values)
        .extracting(SecretValue::credential)
        .containsExactly("github", "internal-api");
    assertThat(values.get(0).reveal()).isEqualTo(GITHUB_TOKEN);
    Jwts.verify(values.get(1).reveal(), bao.address());
  }

  @Test
  void a_path_outside_the_policy_is_denied_without_logging_in_again() throws Exception {
    Credential elsewhere =
        Sessions.credential("elsewhere", "secret/data/x", "token", VaultEngine.KV2);
    resolve(github());

    assertThat(failure(elsewhere).reason()).contains("denied").contains("HTTP 403");
    assertThat(identity.logins()).as("a policy denial is not a dead token").isEqualTo(1);
  }

  @Test
  void a_stopped_openbao_fails_naming_the_credential_and_service_resumes_by_itself()
      throws Exception {
    broker(Duration.ZERO); // no cache: every request goes to OpenBao
    assertThat(resolve(github()).reveal()).isEqualTo(GITHUB_TOKEN);

    bao.stop();
    try {
      assertThat(failure(github()).reason()).contains("unreachable");
      assertThat(failure(internalApi()).reason()).contains("unreachable");
    } finally {
      bao.start();
    }
    awaitServedAgain("OpenBao started");
    Jwts.verify(resolve(internalApi()).reveal(), bao.address());
  }

  @Test
  void a_sealed_openbao_fails_naming_the_credential_and_service_resumes_when_unsealed()
      throws Exception {
    broker(Duration.ZERO);
    assertThat(resolve(github()).reveal()).isEqualTo(GITHUB_TOKEN);

    bao.seal();
    try {
      assertThat(failure(github()).reason()).contains("sealed");
    } finally {
      bao.unseal();
    }
    awaitServedAgain("OpenBao unsealed");
  }

  @Test
  void after_the_session_ends_nothing_is_served_and_the_token_is_revoked() throws Exception {
    resolve(github());
    String accessor = identity.accessor();
    secrets.add(identity.token());

    broker.endSession("deleted");

    assertThat(failure(github()).reason()).contains("session has ended");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                org.assertj.core.api.Assertions.assertThatThrownBy(
                        () ->
                            bao.request(
                                "POST", "auth/token/lookup-accessor", Map.of("accessor", accessor)))
                    .isInstanceOf(IllegalStateException.class));
  }
}
