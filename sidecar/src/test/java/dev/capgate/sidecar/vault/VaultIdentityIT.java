package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.VaultEngine;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.stack.CapturedLogs;
import dev.capgate.sidecar.stack.Closeables;
import dev.capgate.sidecar.stack.SessionIssuer;
import dev.capgate.sidecar.stack.Sessions;
import dev.capgate.sidecar.stack.VaultSetup;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.OpenBaoServer;
import dev.capgate.testkit.Pki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar's Vault identity against a real OpenBao: one login is one request to the operator's
 * {@code /v1/vault-token} (here {@link SessionIssuer}, a stand-in over real HTTPS with a test CA
 * that signs real session JWTs; the operator's own endpoint is tested by the operator's ITs and end
 * to end) and one unwrap at OpenBao, whose JWT auth method issues the session's token. The identity
 * tokens are real TokenRequest tokens with the audience {@code capgate}.
 */
class VaultIdentityIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String SESSION = "fix-issue-42";
  private static KubeControlPlane kube;
  private static OpenBaoServer bao;
  private static String namespace;
  private static VaultSetup.SessionJwtAuth jwt;
  private static String kv;
  private static SessionIssuer issuer;
  private static CapturedLogs logs;
  private static final Set<String> secrets = ConcurrentHashMap.newKeySet();

  @TempDir Path dir;

  @AutoClose private final Closeables toClose = new Closeables();

  @BeforeAll
  static void stack() throws Exception {
    logs = CapturedLogs.start();
    kube = KubeControlPlane.shared();
    bao = OpenBaoServer.shared();
    namespace = kube.newNamespace("vault-id");
    kube.newServiceAccount(namespace, "sidecar");
    kube.newServiceAccount(namespace, "other");
    jwt = VaultSetup.sessionJwtAuth(bao);
    kv = bao.newKvMount();
    bao.putKv(kv + "/github/" + Sessions.USER, Map.of("token", "ghp_identityTestToken42"));
    secrets.add("ghp_identityTestToken42");
    List<String> policies = List.of(VaultSetup.userGithubPolicy(bao, jwt, kv, "read"));
    VaultSetup.sessionRole(bao, jwt, "capgate-agent", policies, "1h", "2h");
    VaultSetup.sessionRole(bao, jwt, "short", policies, "6s", "1h");
    VaultSetup.sessionRole(bao, jwt, "capped", policies, "3s", "7s");
    issuer = SessionIssuer.start(bao, jwt);
  }

  @AfterAll
  static void noSecretInAnyLogLine() {
    issuer.close();
    logs.assertNoLineHoldsAndClose(secrets);
  }

  /**
   * A real identity token of {@code account}, granted by the issuer for the session as {@code
   * role}.
   */
  private Path identityToken(String account, String role) throws IOException {
    String token = kube.serviceAccountToken(namespace, account, Duration.ofHours(1), "capgate");
    secrets.add(token);
    if (role != null) {
      issuer.grant(
          token,
          new SessionIssuer.Grant(
              role, Sessions.USER, Sessions.AGENT, namespace, SESSION, "agent-pod-" + account));
    }
    return Files.writeString(dir.resolve("identity-" + account + "-" + role), token);
  }

  private VaultIdentity identity(Path identityToken, RecordingLedger ledger) {
    return identity(issuer.url(), issuer.caPem(), identityToken, ledger);
  }

  private VaultIdentity identity(
      String operatorUrl, String operatorCa, Path identityToken, RecordingLedger ledger) {
    VaultClient vault = connection();
    VaultIdentity identity =
        new VaultIdentity(
            vault,
            OperatorLogin.create(
                operatorUrl,
                operatorCa,
                identityToken,
                vault,
                namespace,
                SESSION,
                Duration.ofSeconds(10)),
            ledger,
            Clock.systemUTC());
    toClose.add(identity);
    return identity;
  }

  private static VaultClient connection() {
    return VaultClient.create(bao.address(), (Path) null, Duration.ofSeconds(5));
  }

  private static JsonNode lookupAccessor(String accessor) {
    return VaultSetup.parse(
            bao.request("POST", "auth/token/lookup-accessor", Map.of("accessor", accessor)))
        .path("data");
  }

  private static boolean accessorAlive(String accessor) {
    try {
      lookupAccessor(accessor);
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  @Test
  void logs_in_through_the_operator_as_its_session_s_user_and_records_the_accessor()
      throws Exception {
    RecordingLedger ledger = new RecordingLedger();
    int before = issuer.requests();
    VaultIdentity identity = identity(identityToken("sidecar", "capgate-agent"), ledger);

    secrets.add(identity.token());

    JsonNode token = lookupAccessor(identity.accessor());
    JsonNode meta = token.path("meta");
    assertThat(meta.path("role").asText(null)).isEqualTo("capgate-agent");
    assertThat(meta.path("namespace").asText(null)).isEqualTo(namespace);
    assertThat(meta.path("session").asText(null)).isEqualTo(SESSION);
    assertThat(token.path("path").asText(null)).isEqualTo("auth/" + jwt.mount() + "/login");
    JsonNode entity =
        VaultSetup.read(bao, "identity/entity/id/" + token.path("entity_id").asText(""))
            .path("data");
    assertThat(entity.get("aliases"))
        .extracting(v -> v.path("name").asText(null))
        .as("Vault's entity is the session's user, not a service account")
        .containsExactly(Sessions.USER);
    assertThat(ledger.accessors).containsExactly(identity.accessor());
    assertThat(identity.logins()).isEqualTo(1);
    assertThat(issuer.requests() - before).isEqualTo(1);
  }

  @Test
  void the_operator_s_refusal_reaches_the_error_and_the_log_but_never_the_identity_token()
      throws Exception {
    Path identityToken = identityToken("sidecar", "capgate-agent");
    VaultIdentity identity = identity(identityToken, new RecordingLedger());
    issuer.refuseNext(
        403, "pod agent-pod-sidecar is not bound to session " + SESSION + "\nforged: line");

    assertThatThrownBy(identity::token)
        .isInstanceOf(VaultReadException.class)
        .hasMessageContaining(
            "the operator refused a Vault token for this pod's session (HTTP 403)")
        .hasMessageContaining(
            "pod agent-pod-sidecar is not bound to session " + SESSION + " forged: line")
        .hasMessageNotContaining(Files.readString(identityToken));
    assertThat(logs.lines())
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains("is not bound to session " + SESSION)
                    .contains("HTTP 403"));
    assertThat(identity.logins()).isZero();
  }

  @Test
  void
      an_identity_token_the_operator_does_not_accept_is_refused_and_a_rotated_one_is_read_at_the_next_login()
          throws Exception {
    Path file = dir.resolve("rotating");
    Files.copy(identityToken("other", null), file);
    VaultIdentity identity = identity(file, new RecordingLedger());
    assertThatThrownBy(identity::token)
        .isInstanceOf(VaultReadException.class)
        .hasMessageContaining(
            "the operator did not accept the sidecar's identity token (HTTP 401)");

    // The kubelet swaps the projected file; no restart, no permanent failure state.
    Files.copy(
        identityToken("sidecar", "capgate-agent"),
        file,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(() -> identity.token() != null);
    secrets.add(identity.token());
    assertThat(identity.logins()).isEqualTo(1);
  }

  @Test
  void a_wrapping_token_unwrapped_by_someone_else_is_a_security_warning_and_a_new_one_is_requested()
      throws Exception {
    VaultIdentity identity =
        identity(identityToken("sidecar", "capgate-agent"), new RecordingLedger());
    int before = issuer.requests();
    issuer.interceptNext(1);

    secrets.add(identity.token());
    secrets.addAll(issuer.stolenTokens);

    assertThat(issuer.requests() - before).as("one intercepted, one good").isEqualTo(2);
    assertThat(identity.logins()).isEqualTo(1);
    assertThat(logs.lines())
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains("SECURITY")
                    .contains("already unwrapped (intercepted)")
                    .contains(namespace + "/" + SESSION));
    System.out.printf(
        "[observed] %s%n",
        logs.lines().stream().filter(l -> l.contains("SECURITY")).findFirst().orElseThrow());
  }

  @Test
  void wrapping_tokens_intercepted_again_and_again_fail_the_login() throws Exception {
    VaultIdentity identity =
        identity(identityToken("sidecar", "capgate-agent"), new RecordingLedger());
    issuer.interceptNext(OperatorLogin.ATTEMPTS);
    try {
      assertThatThrownBy(identity::token)
          .isInstanceOf(VaultReadException.class)
          .hasMessageContaining(
              "refused to unwrap the operator's wrapping token "
                  + OperatorLogin.ATTEMPTS
                  + " times");
    } finally {
      secrets.addAll(issuer.stolenTokens);
    }
    assertThat(identity.logins()).isZero();
  }

  @Test
  void an_answer_for_another_session_is_not_unwrapped() throws Exception {
    VaultIdentity identity =
        identity(identityToken("sidecar", "capgate-agent"), new RecordingLedger());
    issuer.answerNextForSession("someone-elses-session");

    assertThatThrownBy(identity::token)
        .isInstanceOf(VaultReadException.class)
        .hasMessageContaining(
            "a token for session "
                + namespace
                + "/someone-elses-session, not "
                + namespace
                + "/"
                + SESSION);
    assertThat(identity.logins()).isZero();
  }

  @Test
  void the_identity_token_goes_only_to_a_server_certified_by_the_operator_ca_for_that_address()
      throws Exception {
    Path identityToken = identityToken("sidecar", "capgate-agent");
    int before = issuer.requests();

    // Another CA's certificate (a server that is not the operator): the handshake fails, no
    // request.
    VaultIdentity stranger =
        identity(
            issuer.url(),
            new Pki("someone-else").caCertPem(),
            identityToken,
            new RecordingLedger());
    assertThatThrownBy(stranger::token)
        .isInstanceOf(VaultReadException.class)
        .hasMessageContaining("cannot reach the operator at " + issuer.url())
        .hasMessageNotContaining(Files.readString(identityToken));
    assertThat(issuer.requests()).as("no request reached the server").isEqualTo(before);

    // The operator's CA, but a certificate for another name: host name verification refuses it.
    try (SessionIssuer elsewhere =
        SessionIssuer.startWithCertificateFor(
            bao, jwt, List.of("operator.example"), List.of("10.96.0.12"))) {
      VaultIdentity misnamed =
          identity(elsewhere.url(), elsewhere.caPem(), identityToken, new RecordingLedger());
      assertThatThrownBy(misnamed::token)
          .isInstanceOf(VaultReadException.class)
          .hasMessageContaining("cannot reach the operator at " + elsewhere.url());
      assertThat(elsewhere.requests()).as("no request reached the misnamed server").isZero();
    }
  }

  @Test
  void the_token_is_renewed_before_it_expires() throws Exception {
    VaultIdentity identity = identity(identityToken("sidecar", "short"), new RecordingLedger());
    long t0 = System.nanoTime();
    secrets.add(identity.token());
    String accessor = identity.accessor();

    await().atMost(WAIT).until(() -> identity.renewals() >= 3);
    long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

    JsonNode token = lookupAccessor(accessor);
    System.out.printf(
        "[measured] token ttl 6 s: %d renewals in %d ms, same token, ttl left %d s%n",
        identity.renewals(), elapsed, token.path("ttl").asLong(-1));
    assertThat(identity.accessor()).isEqualTo(accessor);
    assertThat(identity.logins()).isEqualTo(1);
    assertThat(token.path("ttl").asLong(0)).isPositive();
  }

  @Test
  void a_token_at_its_max_ttl_is_replaced_by_a_new_operator_request_and_the_old_one_revoked()
      throws Exception {
    RecordingLedger ledger = new RecordingLedger();
    VaultIdentity identity = identity(identityToken("sidecar", "capped"), ledger);
    int before = issuer.requests();
    secrets.add(identity.token());
    String first = identity.accessor();

    await().atMost(WAIT).until(() -> identity.logins() >= 2);
    secrets.add(identity.token());

    assertThat(issuer.requests() - before)
        .as("each login is a new operator request")
        .isGreaterThanOrEqualTo(2);
    assertThat(identity.accessor()).isNotEqualTo(first);
    await().atMost(WAIT).until(() -> !accessorAlive(first));
    await().atMost(WAIT).until(() -> !ledger.accessors.contains(first));
    assertThat(ledger.accessors).contains(identity.accessor());
  }

  @Test
  void a_token_revoked_behind_its_back_is_replaced_on_the_next_request() throws Exception {
    RecordingLedger ledger = new RecordingLedger();
    VaultIdentity identity = identity(identityToken("sidecar", "capgate-agent"), ledger);
    CredentialBroker broker =
        new CredentialBroker(connection(), identity, ledger, Duration.ZERO, Clock.systemUTC());
    toClose.add(broker);
    var github =
        Sessions.credential("github", kv + "/data/github/{{user}}", "token", VaultEngine.KV2);
    SessionIdentity session =
        new SessionIdentity(namespace, SESSION, Sessions.USER, Sessions.AGENT, null);
    assertThat(
            broker
                .resolve(github, session)
                .toCompletableFuture()
                .get(20, TimeUnit.SECONDS)
                .reveal())
        .isEqualTo("ghp_identityTestToken42");
    String first = identity.accessor();
    secrets.add(identity.token());

    bao.request("POST", "auth/token/revoke-accessor", Map.of("accessor", first));

    assertThat(
            broker
                .resolve(github, session)
                .toCompletableFuture()
                .get(20, TimeUnit.SECONDS)
                .reveal())
        .as("the 403 led to a new login and a retry, invisible to the request")
        .isEqualTo("ghp_identityTestToken42");
    secrets.add(identity.token());
    assertThat(identity.logins()).isEqualTo(2);
    assertThat(identity.accessor()).isNotEqualTo(first);
    await().atMost(WAIT).until(() -> !ledger.accessors.contains(first));
  }
}
