package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.Injection;
import dev.capgate.api.v1alpha1.InjectionType;
import dev.capgate.api.v1alpha1.VaultSecret;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.stack.VaultSetup;
import dev.capgate.testkit.OpenBaoServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * File mode: the production {@link CredentialBroker} on a static token read from a file ({@link
 * TokenFile}), against a real OpenBao with least-privilege tokens. What the data-plane ITs and the
 * bench run; the cluster-mode identity, cache TTL, outages and leases are in {@link
 * CredentialBrokerIT}.
 */
class CredentialBrokerFileModeIT {
  private static final SessionIdentity SESSION =
      new SessionIdentity(
          "agents", "fix-issue-42", "alice@example.com", "coding-agent", "payments");
  private static final String GITHUB_TOKEN = "ghp_aliceToken0123456789";
  private static final String OTHER_FIELD_VALUE = "do-not-leak-this-value";

  private static OpenBaoServer bao;
  private static String mount;
  private static String readPolicy;

  @TempDir Path dir;

  private final List<CredentialBroker> brokers = new ArrayList<>();

  @BeforeAll
  static void startOpenBao() {
    bao = OpenBaoServer.shared();
    mount = bao.newKvMount();
    readPolicy = "read-" + mount;
    bao.request(
        "PUT",
        "sys/policies/acl/" + readPolicy,
        Map.of("policy", "path \"" + mount + "/data/*\" { capabilities = [\"read\"] }"));
    write("github/alice@example.com", Map.of("token", GITHUB_TOKEN, "note", OTHER_FIELD_VALUE));
    write("agents/coding-agent/fix-issue-42", Map.of("api-key", "k-123"));
  }

  /** Writes as root (KV v2: putKv adds data/ after the mount; it throws unless 2xx). */
  private static void write(String key, Map<String, Object> fields) {
    bao.putKv(mount + "/" + key, fields);
  }

  /** A child token of root that can only read this test's mount, and nothing else. */
  private static String readOnlyToken(Integer uses) {
    Map<String, Object> request = new HashMap<>();
    request.put("policies", List.of(readPolicy));
    request.put("no_default_policy", true);
    request.put("ttl", "1h");
    if (uses != null) {
      request.put("num_uses", uses);
    }
    return VaultSetup.parse(bao.request("POST", "auth/token/create", request))
        .path("auth")
        .path("client_token")
        .asText(null);
  }

  private Path tokenFile(String token) throws IOException {
    return Files.writeString(dir.resolve("vault-token"), token + "\n");
  }

  private CredentialBroker resolver(Path tokenFile, Duration ttl) {
    VaultClient vault = VaultClient.create(bao.address(), (Path) null, Duration.ofSeconds(5));
    CredentialBroker broker =
        new CredentialBroker(
            vault, new TokenFile(tokenFile), LeaseRecorder.NONE, ttl, Clock.systemUTC());
    brokers.add(broker);
    return broker;
  }

  private static Credential credential(String name, String path, String field) {
    return new Credential(
        name,
        new VaultSecret(path, field, null),
        new Injection(InjectionType.BEARER, null, null, null),
        null);
  }

  private static Credential github() {
    return credential("github", mount + "/data/github/{{user}}", "token");
  }

  private static SecretValue resolve(CredentialBroker resolver, Credential credential)
      throws Exception {
    return resolver.resolve(credential, SESSION).toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  /** The failure of a resolve, checked to name the credential and to carry no secret. */
  private static CredentialUnavailableException failure(
      CredentialBroker resolver, Credential credential) throws Exception {
    try {
      resolve(resolver, credential);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(CredentialUnavailableException.class);
      CredentialUnavailableException failure = (CredentialUnavailableException) e.getCause();
      assertThat(failure.credential()).isEqualTo(credential.name());
      assertThat(failure.getMessage())
          .contains("'" + credential.name() + "'")
          .doesNotContain(GITHUB_TOKEN)
          .doesNotContain(OTHER_FIELD_VALUE);
      return failure;
    }
    throw new AssertionError("resolving " + credential.name() + " should have failed");
  }

  @AfterEach
  void closeResolvers() {
    brokers.forEach(CredentialBroker::close);
  }

  @Test
  void reads_a_kv2_secret_with_a_least_privilege_token_from_a_file() throws Exception {
    CredentialBroker resolver = resolver(tokenFile(readOnlyToken(null)), Duration.ofSeconds(30));

    Instant before = Instant.now();
    SecretValue value = resolve(resolver, github());

    assertThat(value.reveal()).isEqualTo(GITHUB_TOKEN);
    assertThat(value.credential()).isEqualTo("github");
    assertThat(value.expiresAt()).isBetween(before.plusSeconds(29), Instant.now().plusSeconds(31));
  }

  @Test
  void a_cached_value_is_the_same_object_for_every_request_until_it_is_read_again()
      throws Exception {
    CredentialBroker resolver = resolver(tokenFile(readOnlyToken(null)), Duration.ofSeconds(30));
    Credential github = github();

    SecretValue first = resolve(resolver, github);
    SecretValue again = resolve(resolver, github);
    // Another credential on the same path and field: its own value object, the same text.
    SecretValue other =
        resolve(resolver, credential("mirror", mount + "/data/github/{{user}}", "token"));

    assertThat(again).isSameAs(first); // made once per read, rendered once (issue 13)
    assertThat(other).isNotSameAs(first);
    assertThat(other.credential()).isEqualTo("mirror");
    assertThat(other.reveal()).isEqualTo(GITHUB_TOKEN);
    assertThat(resolve(resolver, github).reveal()).isEqualTo(GITHUB_TOKEN);
  }

  @Test
  void fills_session_fields_into_the_path() throws Exception {
    CredentialBroker resolver = resolver(tokenFile(readOnlyToken(null)), Duration.ofSeconds(30));

    SecretValue value =
        resolve(
            resolver,
            credential("internal", mount + "/data/{{namespace}}/{{agent}}/{{session}}", "api-key"));

    assertThat(value.reveal()).isEqualTo("k-123");
  }

  @Test
  void a_missing_field_is_a_clear_error_without_any_value() throws Exception {
    CredentialBroker resolver = resolver(tokenFile(readOnlyToken(null)), Duration.ofSeconds(30));

    CredentialUnavailableException failure =
        failure(resolver, credential("github", mount + "/data/github/{{user}}", "password"));

    assertThat(failure.reason())
        .isEqualTo(
            "field 'password' not found at Vault path " + mount + "/data/github/alice@example.com");
  }

  @Test
  void a_missing_secret_is_a_clear_error() throws Exception {
    CredentialBroker resolver = resolver(tokenFile(readOnlyToken(null)), Duration.ofSeconds(30));

    CredentialUnavailableException failure =
        failure(resolver, credential("nobody", mount + "/data/github/nobody", "token"));

    assertThat(failure.reason()).contains("HTTP 404");
  }

  @Test
  void the_token_cannot_read_outside_its_policy() throws Exception {
    String otherMount = bao.newKvMount();
    bao.putKv(otherMount + "/secret", Map.of("token", "x"));
    CredentialBroker resolver = resolver(tokenFile(readOnlyToken(null)), Duration.ofSeconds(30));

    CredentialUnavailableException failure =
        failure(resolver, credential("elsewhere", otherMount + "/data/secret", "token"));

    assertThat(failure.reason()).contains("denied").contains("HTTP 403");
  }

  @Test
  void a_session_field_that_would_escape_the_path_is_refused() throws Exception {
    CredentialBroker resolver = resolver(tokenFile(readOnlyToken(null)), Duration.ofSeconds(30));
    SessionIdentity hostile =
        new SessionIdentity("agents", "s", "../../sys/policies", "coding-agent", null);

    var stage = resolver.resolve(github(), hostile).toCompletableFuture();

    assertThat(stage)
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableThat()
        .havingCause()
        .isInstanceOf(CredentialUnavailableException.class)
        .withMessageContaining("{{user}}");
  }

  @Test
  void a_cached_value_is_served_without_calling_vault_until_the_ttl_ends() throws Exception {
    write("cache/alice@example.com", Map.of("token", "v1"));
    Credential cached = credential("cached", mount + "/data/cache/{{user}}", "token");
    CredentialBroker resolver = resolver(tokenFile(readOnlyToken(null)), Duration.ofSeconds(2));
    assertThat(resolve(resolver, cached).reveal()).isEqualTo("v1");

    write("cache/alice@example.com", Map.of("token", "v2"));

    assertThat(resolve(resolver, cached).reveal())
        .as("inside the TTL: from the cache")
        .isEqualTo("v1");
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> resolve(resolver, cached).reveal(), "v2"::equals);
  }

  @Test
  void concurrent_callers_share_one_vault_read() throws Exception {
    // A token good for exactly one request: a second read of Vault would be refused.
    CredentialBroker resolver = resolver(tokenFile(readOnlyToken(1)), Duration.ofSeconds(1));

    List<CompletableFuture<SecretValue>> callers = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      callers.add(resolver.resolve(github(), SESSION).toCompletableFuture());
    }

    for (CompletableFuture<SecretValue> caller : callers) {
      assertThat(caller.get(20, TimeUnit.SECONDS).reveal()).isEqualTo(GITHUB_TOKEN);
    }
    // After the TTL the resolver must go back to Vault, where the used-up token is refused.
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(() -> assertThat(failure(resolver, github()).reason()).contains("HTTP 403"));
  }

  @Test
  void a_changed_token_file_is_read_again_once_the_failed_read_has_backed_off() throws Exception {
    Path file = tokenFile("not-a-valid-token");
    CredentialBroker resolver = resolver(file, Duration.ofSeconds(30));
    assertThat(failure(resolver, github()).reason()).contains("HTTP 403");

    Files.writeString(file, readOnlyToken(null) + "\n");
    Files.setLastModifiedTime(
        file, java.nio.file.attribute.FileTime.from(Instant.now().plusSeconds(5)));

    // The failure is remembered for a short back-off (Backoff.standard()), then Vault is asked
    // again.
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(() -> resolve(resolver, github()).reveal(), GITHUB_TOKEN::equals);
  }

  @Test
  void an_unreadable_token_file_is_a_clear_error() throws Exception {
    CredentialBroker resolver = resolver(dir.resolve("absent-token"), Duration.ofSeconds(30));

    assertThat(failure(resolver, github()).reason()).startsWith("no Vault token");
  }
}
