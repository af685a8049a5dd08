package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.VaultEngine;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.stack.CapturedLogs;
import dev.capgate.sidecar.stack.Closeables;
import dev.capgate.sidecar.stack.SessionIssuer;
import dev.capgate.sidecar.stack.Sessions;
import dev.capgate.sidecar.stack.VaultSetup;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.OpenBaoServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Vault itself enforces each session's scope (issue 11, bypass 4). OpenBao is set up as
 * e2e/stack/stack-up.sh sets it up: the JWT auth method trusting the operator's session key, one
 * role, a policy templated on the session's user ({@code identity.entity.aliases.<accessor>.name}),
 * and no Kubernetes auth at all. Alice's session token reads Alice's secret and gets 403 from
 * OpenBao on Bob's, whatever the sidecar asks for; Bob's the other way round; the pods' service
 * account cannot log in to OpenBao at all.
 */
class VaultScopeIT {
  private static final String ALICE = "alice@example.com";
  private static final String BOB = "bob@example.com";
  private static final String ALICE_TOKEN = "ghp_aliceOnly0123456789abcdef";
  private static final String BOB_TOKEN = "ghp_bobOnly0123456789abcdefgh";

  private static KubeControlPlane kube;
  private static OpenBaoServer bao;
  private static String namespace;
  private static VaultSetup.SessionJwtAuth jwt;
  private static String kv;
  private static SessionIssuer issuer;
  private static CapturedLogs logs;
  private static final Set<String> secrets = ConcurrentHashMap.newKeySet();

  @TempDir static Path dir;

  @AutoClose private final Closeables toClose = new Closeables();

  @BeforeAll
  static void stack() throws Exception {
    logs = CapturedLogs.start();
    kube = KubeControlPlane.shared();
    bao = OpenBaoServer.shared();
    namespace = kube.newNamespace("scope");
    kube.newServiceAccount(namespace, "agents");
    jwt = VaultSetup.sessionJwtAuth(bao);
    kv = bao.newKvMount();
    bao.putKv(kv + "/github/" + ALICE, Map.of("token", ALICE_TOKEN));
    bao.putKv(kv + "/github/" + BOB, Map.of("token", BOB_TOKEN));
    secrets.addAll(List.of(ALICE_TOKEN, BOB_TOKEN));
    String policy = VaultSetup.userGithubPolicy(bao, jwt, kv, "capgate-agent");
    VaultSetup.sessionRole(bao, jwt, "capgate-agent", List.of(policy), "1h", "2h");
    issuer = SessionIssuer.start(bao, jwt);
  }

  @AfterAll
  static void noSecretInAnyLogLine() {
    issuer.close();
    logs.assertNoLineHoldsAndClose(secrets);
  }

  /**
   * A sidecar of {@code user}'s session, with its own pod-bound identity token granted by the
   * issuer.
   */
  private CredentialBroker sidecarOf(String user, String session) throws Exception {
    String identityToken =
        kube.serviceAccountToken(namespace, "agents", Duration.ofHours(1), "capgate");
    secrets.add(identityToken);
    issuer.grant(
        identityToken,
        new SessionIssuer.Grant(
            "capgate-agent", user, Sessions.AGENT, namespace, session, "pod-of-" + session));
    Path file = Files.writeString(dir.resolve("identity-" + session), identityToken);
    VaultClient vault = VaultClient.create(bao.address(), (Path) null, Duration.ofSeconds(5));
    RecordingLedger ledger = new RecordingLedger();
    VaultIdentity identity =
        new VaultIdentity(
            vault,
            OperatorLogin.create(
                issuer.url(),
                issuer.caPem(),
                file,
                vault,
                namespace,
                session,
                Duration.ofSeconds(10)),
            ledger,
            Clock.systemUTC());
    CredentialBroker broker =
        new CredentialBroker(vault, identity, ledger, Duration.ZERO, Clock.systemUTC());
    toClose.add(identity);
    toClose.add(broker);
    secrets.add(identity.token());
    return broker;
  }

  private static Credential github(String path) {
    return Sessions.credential("github", path, "token", VaultEngine.KV2);
  }

  private static String read(CredentialBroker broker, String user, String session, String path)
      throws Exception {
    String value =
        broker
            .resolve(
                github(path), new SessionIdentity(namespace, session, user, Sessions.AGENT, null))
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS)
            .reveal();
    secrets.add(value);
    return value;
  }

  private static String refusal(CredentialBroker broker, String user, String session, String path)
      throws Exception {
    try {
      read(broker, user, session, path);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(CredentialUnavailableException.class);
      return e.getCause().getMessage();
    }
    throw new AssertionError("reading " + path + " should have been refused");
  }

  private static VaultReply get(String path, String token) {
    return bao.client().call("GET", path, token, null);
  }

  @Test
  void alice_s_session_token_reads_alice_s_secret_and_openbao_refuses_bob_s() throws Exception {
    CredentialBroker alice = sidecarOf(ALICE, "alice-session");
    assertThat(read(alice, ALICE, "alice-session", kv + "/data/github/{{user}}"))
        .isEqualTo(ALICE_TOKEN);

    // A sidecar that asks for Bob's path (a compromised sidecar, a forged spec) gets Vault's 403.
    String why = refusal(alice, ALICE, "alice-session", kv + "/data/github/" + BOB);
    assertThat(why)
        .contains("Vault denied access to " + kv + "/data/github/" + BOB + " (HTTP 403)");

    // The same with the raw token, no sidecar code in between: OpenBao's own answer.
    String aliceToken = ((VaultIdentity) toClose.get(0)).token();
    VaultReply raw = get(kv + "/data/github/" + BOB, aliceToken);
    System.out.printf(
        "[observed] alice's session token on bob's path: HTTP %d %s%n", raw.status(), raw.body());
    assertThat(raw.status()).isEqualTo(403);
    assertThat(raw.body().toString()).doesNotContain(BOB_TOKEN);
    assertThat(get(kv + "/data/github/" + ALICE, aliceToken).status()).isEqualTo(200);
  }

  @Test
  void bob_s_session_token_cannot_read_alice_s_secret() throws Exception {
    CredentialBroker bob = sidecarOf(BOB, "bob-session");
    assertThat(read(bob, BOB, "bob-session", kv + "/data/github/{{user}}")).isEqualTo(BOB_TOKEN);
    assertThat(refusal(bob, BOB, "bob-session", kv + "/data/github/" + ALICE))
        .contains("(HTTP 403)");
  }

  @Test
  void the_pods_service_account_has_no_vault_login() throws Exception {
    JsonNode methods = VaultSetup.read(bao, "sys/auth").path("data");
    List<String> types = new ArrayList<>();
    methods.properties().forEach(m -> types.add(m.getKey() + m.getValue().get("type")));
    System.out.printf("[observed] OpenBao auth methods: %s%n", types);
    assertThat(types)
        .as("no Kubernetes auth method anywhere")
        .noneMatch(t -> t.endsWith("\"kubernetes\""));

    // The attack of issue 11: the agents' service account's own token with the Vault audience.
    String saToken = kube.serviceAccountToken(namespace, "agents", Duration.ofMinutes(10), "vault");
    secrets.add(saToken);
    VaultReply login =
        bao.client()
            .call(
                "POST",
                "auth/kubernetes/login",
                null,
                Map.of("role", "capgate-agent", "jwt", saToken));
    System.out.printf(
        "[observed] Kubernetes login as the agents' service account: HTTP %d %s%n",
        login.status(), login.body());
    assertThat(login.status() / 100).isNotEqualTo(2);
    assertThat(login.body().toString()).doesNotContain("client_token");

    // Nor can it log in at the JWT mount: only the operator's key signs what that mount accepts.
    VaultReply jwtLogin =
        bao.client()
            .call(
                "POST",
                "auth/" + jwt.mount() + "/login",
                null,
                Map.of("role", "capgate-agent", "jwt", saToken));
    System.out.printf(
        "[observed] JWT login with the service-account token: HTTP %d %s%n",
        jwtLogin.status(), jwtLogin.body());
    assertThat(jwtLogin.status()).isEqualTo(400);
    assertThat(jwtLogin.body().toString()).doesNotContain("client_token");
  }
}
