package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.v1alpha1.VaultEngine;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.stack.CapturedLogs;
import dev.capgate.sidecar.stack.Sessions;
import dev.capgate.sidecar.stack.VaultSetup;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.OpenBaoServer;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonObject;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar's Vault identity against a real OpenBao whose Kubernetes auth method reviews tokens
 * with a real kube-apiserver (TokenReview); the sidecar's token is minted with TokenRequest for
 * its service account, with the Vault audience.
 */
class VaultIdentityIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static KubeControlPlane kube;
  private static OpenBaoServer bao;
  private static String namespace;
  private static String mount;
  private static String kv;
  private static CapturedLogs logs;
  private static final Set<String> secrets = ConcurrentHashMap.newKeySet();

  @TempDir
  Path dir;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeAll
  static void stack() throws Exception {
    logs = CapturedLogs.start();
    kube = KubeControlPlane.shared();
    bao = OpenBaoServer.shared();
    namespace = kube.newNamespace("vault-id");
    for (String account : List.of("sidecar", "other")) {
      kube.client().serviceAccounts().inNamespace(namespace).resource(new ServiceAccountBuilder()
          .withNewMetadata().withName(account).endMetadata().build()).create();
    }
    mount = VaultSetup.kubernetesAuth(bao, kube);
    kv = bao.newKvMount();
    bao.rootClient().logical().write(kv + "/github/" + Sessions.USER, Map.of("token", "ghp_identityTestToken42"));
    secrets.add("ghp_identityTestToken42");
    VaultSetup.policy(bao, "read-" + kv, "path \"" + kv + "/data/*\" { capabilities = [\"read\"] }");
    VaultSetup.sidecarRole(bao, mount, "capgate-agent", namespace, "sidecar", List.of("read-" + kv), "1h", "2h");
    VaultSetup.sidecarRole(bao, mount, "short", namespace, "sidecar", List.of("read-" + kv), "6s", "1h");
    VaultSetup.sidecarRole(bao, mount, "capped", namespace, "sidecar", List.of("read-" + kv), "3s", "7s");
  }

  @AfterAll
  static void noSecretInAnyLogLine() {
    try {
      assertThat(logs.linesContainingAny(secrets)).as("log lines holding a secret").isEmpty();
      System.out.printf("[checked] %d captured log lines, none holds any of %d secret values%n", logs.lines().size(),
          secrets.size());
    } finally {
      logs.close();
    }
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose.reversed()) {
      c.close();
    }
  }

  private Path vaultToken(String account) throws IOException {
    return Files.writeString(dir.resolve("token-" + account),
        kube.serviceAccountToken(namespace, account, Duration.ofHours(1), "vault"));
  }

  private VaultIdentity identity(String role, Path jwt, RecordingLedger ledger) {
    VaultIdentity identity = new VaultIdentity(connection(), mount, role, jwt, ledger, Clock.systemUTC());
    toClose.add(identity);
    return identity;
  }

  private static VaultConnection connection() {
    return new VaultConnection(bao.address(), HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build(),
        Duration.ofSeconds(5));
  }

  private static JsonObject lookupAccessor(String accessor) {
    return Json.parse(bao.request("POST", "auth/token/lookup-accessor",
        Json.object().add("accessor", accessor).toString())).asObject().get("data").asObject();
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
  void logs_in_with_its_tokenrequest_token_and_records_the_accessor() throws Exception {
    RecordingLedger ledger = new RecordingLedger();
    VaultIdentity identity = identity("capgate-agent", vaultToken("sidecar"), ledger);

    secrets.add(identity.token());

    JsonObject token = lookupAccessor(identity.accessor());
    assertThat(token.get("meta").asObject().getString("service_account_name", null)).isEqualTo("sidecar");
    assertThat(token.get("meta").asObject().getString("service_account_namespace", null)).isEqualTo(namespace);
    assertThat(token.getString("entity_id", "")).isNotEmpty();
    assertThat(ledger.accessors).containsExactly(identity.accessor());
    assertThat(identity.logins()).isEqualTo(1);
  }

  @Test
  void the_token_of_another_service_account_is_refused() throws Exception {
    Path otherJwt = vaultToken("other");
    secrets.add(Files.readString(otherJwt));
    VaultIdentity identity = identity("capgate-agent", otherJwt, new RecordingLedger());

    assertThatThrownBy(identity::token).isInstanceOf(VaultReadException.class)
        .hasMessageContaining("refused the Kubernetes login as role 'capgate-agent'")
        .hasMessageNotContaining(Files.readString(otherJwt));
    assertThat(identity.logins()).isZero();
  }

  @Test
  void a_rotated_service_account_token_is_read_again_at_the_next_login() throws Exception {
    Path jwt = dir.resolve("rotating");
    Files.writeString(jwt, kube.serviceAccountToken(namespace, "other", Duration.ofHours(1), "vault"));
    VaultIdentity identity = identity("capgate-agent", jwt, new RecordingLedger());
    assertThatThrownBy(identity::token).isInstanceOf(VaultReadException.class);

    // The kubelet swaps the projected file; no restart, no permanent failure state.
    Files.writeString(jwt, kube.serviceAccountToken(namespace, "sidecar", Duration.ofHours(1), "vault"));
    await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> identity.token() != null);
    assertThat(identity.logins()).isEqualTo(1);
  }

  @Test
  void the_token_is_renewed_before_it_expires() throws Exception {
    VaultIdentity identity = identity("short", vaultToken("sidecar"), new RecordingLedger());
    long t0 = System.nanoTime();
    secrets.add(identity.token());
    String accessor = identity.accessor();

    await().atMost(WAIT).until(() -> identity.renewals() >= 3);
    long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

    JsonObject token = lookupAccessor(accessor);
    System.out.printf("[measured] token ttl 6 s: %d renewals in %d ms, same token, ttl left %d s%n",
        identity.renewals(), elapsed, token.getLong("ttl", -1));
    assertThat(identity.accessor()).isEqualTo(accessor);
    assertThat(identity.logins()).isEqualTo(1);
    assertThat(token.getLong("ttl", 0)).isPositive();
  }

  @Test
  void a_token_at_its_max_ttl_is_replaced_by_a_new_login_and_the_old_one_revoked() throws Exception {
    RecordingLedger ledger = new RecordingLedger();
    VaultIdentity identity = identity("capped", vaultToken("sidecar"), ledger);
    secrets.add(identity.token());
    String first = identity.accessor();

    await().atMost(WAIT).until(() -> identity.logins() >= 2);
    secrets.add(identity.token());

    assertThat(identity.accessor()).isNotEqualTo(first);
    await().atMost(WAIT).until(() -> !accessorAlive(first));
    await().atMost(WAIT).until(() -> !ledger.accessors.contains(first));
    assertThat(ledger.accessors).contains(identity.accessor());
  }

  @Test
  void a_token_revoked_behind_its_back_is_replaced_on_the_next_request() throws Exception {
    RecordingLedger ledger = new RecordingLedger();
    VaultIdentity identity = identity("capgate-agent", vaultToken("sidecar"), ledger);
    CredentialBroker broker = new CredentialBroker(connection(), identity, ledger, Duration.ZERO, Clock.systemUTC());
    toClose.add(broker);
    var github = Sessions.credential("github", kv + "/data/github/{{user}}", "token", VaultEngine.KV2);
    SessionIdentity session = new SessionIdentity(namespace, "s", Sessions.USER, Sessions.AGENT, null);
    assertThat(broker.resolve(github, session).toCompletableFuture().get(20, TimeUnit.SECONDS).reveal())
        .isEqualTo("ghp_identityTestToken42");
    String first = identity.accessor();
    secrets.add(identity.token());

    bao.request("POST", "auth/token/revoke-accessor", Json.object().add("accessor", first).toString());

    assertThat(broker.resolve(github, session).toCompletableFuture().get(20, TimeUnit.SECONDS).reveal())
        .as("the 403 led to a new login and a retry, invisible to the request").isEqualTo("ghp_identityTestToken42");
    secrets.add(identity.token());
    assertThat(identity.logins()).isEqualTo(2);
    assertThat(identity.accessor()).isNotEqualTo(first);
    await().atMost(WAIT).until(() -> !ledger.accessors.contains(first));
  }
}
