package dev.capgate.sidecar.session;

import static dev.capgate.sidecar.stack.Sessions.ruleWithCredentials;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.api.v1alpha1.VaultEngine;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.PolicySource;
import dev.capgate.sidecar.stack.AgentSessionCrd;
import dev.capgate.sidecar.stack.CapturedLogs;
import dev.capgate.sidecar.stack.Postgres;
import dev.capgate.sidecar.stack.SessionIssuer;
import dev.capgate.sidecar.stack.Sessions;
import dev.capgate.sidecar.stack.SidecarAccount;
import dev.capgate.sidecar.stack.VaultSetup;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.OpenBaoServer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole session runtime with a dynamic secret: a real AgentSession watched with the sidecar's
 * narrow Role, the session's Vault identity (through {@link SessionIssuer}, a stand-in for the
 * operator's endpoint, from OpenBao's JWT auth), OpenBao's database secrets engine against a real
 * PostgreSQL, and the lease ledger ConfigMap. The lease is created at first use, recorded, renewed
 * while used, and revoked when the session is deleted (the database role is dropped).
 */
class DynamicSecretsIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String SESSION = "db-session";

  private static KubeControlPlane kube;
  private static OpenBaoServer bao;
  private static Postgres postgres;
  private static CapturedLogs logs;
  private static String database;

  @TempDir static Path dir;

  @BeforeAll
  static void stack() {
    logs = CapturedLogs.start();
    postgres = Postgres.start();
    kube = KubeControlPlane.shared();
    bao = OpenBaoServer.shared();
    AgentSessionCrd.install(kube);

    database = "database-" + Long.toHexString(System.nanoTime());
    bao.request("POST", "sys/mounts/" + database, Map.of("type", "database"));
    bao.request(
        "POST",
        database + "/config/pg",
        Map.of(
            "plugin_name",
            "postgresql-database-plugin",
            "connection_url",
            postgres.vaultConnectionUrl(),
            "username",
            postgres.superuser(),
            "password",
            postgres.superPassword(),
            "allowed_roles",
            List.of("app")));
    bao.request(
        "POST",
        database + "/roles/app",
        Map.of(
            "db_name",
            "pg",
            "creation_statements",
            List.of(
                "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"),
            "default_ttl",
            "6s",
            "max_ttl",
            "10m"));
  }

  @AfterAll
  static void tearDown() {
    try {
      logs.close();
    } finally {
      postgres.close();
    }
  }

  private static JsonNode leaseLookup(String leaseId) {
    return VaultSetup.parse(bao.request("PUT", "sys/leases/lookup", Map.of("lease_id", leaseId)))
        .path("data");
  }

  private static boolean leaseExists(String leaseId) {
    try {
      leaseLookup(leaseId);
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  private static Map<String, String> ledger(String namespace) {
    ConfigMap cm =
        kube.client()
            .configMaps()
            .inNamespace(namespace)
            .withName("capgate-leases-" + SESSION)
            .get();
    return cm.getData() == null ? Map.of() : cm.getData();
  }

  private static String value(Map<String, String> data, String keyPrefix) {
    return data.entrySet().stream()
        .filter(e -> e.getKey().startsWith(keyPrefix))
        .map(Map.Entry::getValue)
        .findFirst()
        .orElse(null);
  }

  @Test
  void a_database_lease_lives_while_used_and_dies_with_the_session() throws Exception {
    String namespace = kube.newNamespace("dynamic");
    VaultSetup.SessionJwtAuth jwt = VaultSetup.sessionJwtAuth(bao);
    String mount = jwt.mount();
    VaultSetup.policy(
        bao, "db-" + mount, "path \"" + database + "/creds/app\" { capabilities = [\"read\"] }");
    SidecarAccount account = SidecarAccount.create(kube, namespace, SESSION);
    VaultSetup.sessionRole(bao, jwt, "capgate-agent", List.of("db-" + mount), "1h", "2h");
    Credential password =
        Sessions.credential(
            "db-password", database + "/creds/app", "password", VaultEngine.DYNAMIC);
    Credential username =
        Sessions.credential("db-user", database + "/creds/app", "username", VaultEngine.DYNAMIC);
    Sessions.create(
        kube.client(),
        namespace,
        SESSION,
        Sessions.spec(
            null,
            List.of(password, username),
            ruleWithCredentials(
                "reporting", "reports.example.com", List.of("db-user", "db-password"))));
    Sessions.setPhase(kube.client(), namespace, SESSION, Phase.Active);

    PolicySource policies = new PolicySource();
    Path identityToken = account.writeIdentityToken(kube, dir);
    SessionIssuer issuer = SessionIssuer.start(bao, jwt);
    issuer.grant(
        java.nio.file.Files.readString(identityToken),
        new SessionIssuer.Grant(
            "capgate-agent", Sessions.USER, Sessions.AGENT, namespace, SESSION, "db-agent-pod"));
    SessionSettings settings =
        SessionSettings.of(namespace, SESSION)
            .withVault(
                bao.address(), issuer.url(), issuer.caPem(), identityToken, Duration.ofSeconds(30));
    Set<String> secrets = new HashSet<>();
    try (issuer;
        account;
        SessionRuntime runtime = SessionRuntime.start(settings, policies, account.apiServer())) {
      await().atMost(WAIT).until(() -> policies.current().isPresent());
      Policy policy = policies.current().orElseThrow();
      // The session is in force and names credentials: the sidecar logs in before the first
      // request.
      await().atMost(WAIT).until(() -> runtime.vaultIdentity().logins() == 1);
      assertThat(issuer.requests()).as("one operator request for the warm-up login").isEqualTo(1);

      // First use: one read of the path serves both fields, from one lease.
      List<SecretValue> pair =
          runtime
              .credentials()
              .resolveAll(List.of(username, password), policy.session())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      String user = pair.get(0).reveal();
      String pass = pair.get(1).reveal();
      secrets.add(pass);
      secrets.add(runtime.vaultIdentity().token());
      assertThat(postgres.canLogIn(user, pass))
          .as("username and password come from the same lease")
          .isTrue();

      await()
          .atMost(WAIT)
          .until(
              () ->
                  value(ledger(namespace), "lease.") != null
                      && value(ledger(namespace), "accessor.") != null);
      String leaseId = value(ledger(namespace), "lease.");
      assertThat(leaseId).startsWith(database + "/creds/app/");
      assertThat(value(ledger(namespace), "accessor."))
          .isEqualTo(runtime.vaultIdentity().accessor());
      Instant firstExpiry = Instant.parse(leaseLookup(leaseId).path("expire_time").asText(null));
      System.out.printf(
          "[observed] lease %s, expires %s (default_ttl 6 s)%n", leaseId, firstExpiry);

      // In use: requests keep coming, so the lease is renewed, and the same credential is served.
      long t0 = System.nanoTime();
      await()
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                assertThat(
                        runtime
                            .credentials()
                            .resolve(password, policy.session())
                            .toCompletableFuture()
                            .get(30, TimeUnit.SECONDS)
                            .reveal())
                    .isEqualTo(pass);
                return runtime.broker().leaseRenewals() >= 2;
              });
      Instant renewedExpiry = Instant.parse(leaseLookup(leaseId).path("expire_time").asText(null));
      System.out.printf(
          "[measured] %d renewals in %d ms; expiry moved from %s to %s%n",
          runtime.broker().leaseRenewals(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
          firstExpiry,
          renewedExpiry);
      assertThat(renewedExpiry).isAfter(firstExpiry.plusSeconds(1));
      assertThat(postgres.roleExists(user)).isTrue();

      // The session is deleted: the sidecar revokes its token, and with it the lease: the role is
      // dropped.
      long deleted = System.nanoTime();
      kube.client().resources(AgentSession.class).inNamespace(namespace).withName(SESSION).delete();
      await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> !leaseExists(leaseId));
      long leaseGone = System.nanoTime();
      await()
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(20))
          .until(() -> !postgres.roleExists(user));
      System.out.printf(
          "[measured] session deleted → lease revoked after %d ms, database role dropped after %d ms%n",
          TimeUnit.NANOSECONDS.toMillis(leaseGone - deleted),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - deleted));
      assertThat(policies.current()).isEmpty();
      await()
          .atMost(WAIT)
          .until(
              () ->
                  value(ledger(namespace), "lease.") == null
                      && value(ledger(namespace), "accessor.") == null);

      try {
        runtime
            .credentials()
            .resolve(password, policy.session())
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
        throw new AssertionError("resolved after the session ended");
      } catch (ExecutionException e) {
        assertThat(e.getCause())
            .isInstanceOf(CredentialUnavailableException.class)
            .hasMessageContaining("session has ended");
      }
    }
    logs.assertNoLineHolds(secrets);
  }
}
