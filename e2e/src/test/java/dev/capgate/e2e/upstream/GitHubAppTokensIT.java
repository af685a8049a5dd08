package dev.capgate.e2e.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.GitHubPermissionLevel;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.githubapp.GitHubAppTokens;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.tls.UpstreamTls;
import dev.capgate.sidecar.vault.CredentialBroker;
import dev.capgate.sidecar.vault.LeaseRecorder;
import dev.capgate.sidecar.vault.TokenFile;
import dev.capgate.testkit.OpenBaoServer;
import dev.capgate.testkit.Pki;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar's GitHub App credentials on real pieces: its {@link GitHubAppTokens} in front of the
 * production {@link CredentialBroker} (file mode: a least-privilege token in a file) on a real
 * OpenBao that holds the App's private key, minting from this module's GitHub-style upstream over
 * TLS with a private CA (the sidecar's upstream trust). The upstream verifies the App JWT and holds
 * every token to its scope, so what is shown here is what GitHub would do.
 */
class GitHubAppTokensIT {
  static final long APP_ID = 31337;
  static final long INSTALLATION = 4711;
  static final SessionIdentity SESSION =
      new SessionIdentity("agents", "fix-issue-42", "alice@example.com", "coding-agent", "acme");
  static final OpenBaoServer bao = OpenBaoServer.shared();

  /** The time of both the upstream and the sidecar's token cache: tests move it forward. */
  static final ShiftedClock time = new ShiftedClock();

  static final class ShiftedClock extends Clock {
    final java.util.concurrent.atomic.AtomicReference<Duration> offset =
        new java.util.concurrent.atomic.AtomicReference<>(Duration.ZERO);

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public java.time.Instant instant() {
      return java.time.Instant.now().plus(offset.get());
    }
  }

  @TempDir static Path dir;
  static Vertx vertx;
  static HttpServer server;
  static GitHubApp app;
  static String mount;
  static Path tokenFile;
  static UpstreamTls upstreamTls;
  static final HttpClient http = HttpClient.newBuilder().build();
  static HttpClient trusting;

  /** What the sidecar logged while the test ran: none of it may hold a token or the key. */
  final LoggedMessages logged = new LoggedMessages("dev.capgate.sidecar");

  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    Pki pki = new Pki("github-app-it");
    pki.issueServer("upstream", List.of("localhost"), List.of("127.0.0.1"))
        .writeTo(dir, "upstream");
    Path caFile = Files.writeString(dir.resolve("ca.pem"), pki.caCertPem());
    upstreamTls = UpstreamTls.create(List.of(caFile));
    trusting = HttpClient.newBuilder().sslContext(upstreamTls.jdkContext()).build();

    GitHubAppFixture github = GitHubAppFixture.create(bao, dir, APP_ID, INSTALLATION, time);
    app = github.app();
    mount = github.mount();
    tokenFile = github.tokenFile();
    vertx = Vertx.vertx();
    server =
        new Upstreams()
            .host("localhost", new GitHubStyleApi("ghp_static_unused_" + System.nanoTime(), app))
            .listen(
                vertx, "127.0.0.1", 0, dir.resolve("upstream.crt"), dir.resolve("upstream.key"));

    bao.putKv(mount + "/other", Map.of("token", "plain-vault-value"));
  }

  @AfterAll
  static void stop() {
    if (vertx != null) {
      vertx.close().await();
    }
  }

  @AfterEach
  void closeAll() throws Exception {
    time.offset.set(Duration.ZERO);
    logged.detach();
    for (AutoCloseable c : closeables) {
      c.close();
    }
    assertThat(logged.messages())
        .as("the sidecar's log lines")
        .noneMatch(line -> line.contains("ghs_") || line.contains("PRIVATE KEY"));
  }

  /** The sidecar's resolver chain: GitHub App tokens in front of the broker, on OpenBao. */
  GitHubAppTokens sidecar(String vaultAddress) {
    logged.attach();
    CredentialBroker broker =
        new CredentialBroker(
            VaultClient.create(vaultAddress, (Path) null, Duration.ofSeconds(5)),
            new TokenFile(tokenFile),
            LeaseRecorder.NONE,
            CredentialBroker.DEFAULT_KV_CACHE_TTL,
            Clock.systemUTC());
    GitHubAppTokens tokens =
        new GitHubAppTokens(broker, upstreamTls.jdkContext(), Duration.ofSeconds(10), time);
    closeables.add(broker);
    closeables.add(tokens);
    return tokens;
  }

  static String apiUrl() {
    return "https://localhost:" + server.actualPort();
  }

  /** repo-a only, contents:read and pull_requests:write, as a session for issue 42 needs. */
  static Credential github(String name) {
    return AgentSessionBuilder.githubApp(
            name, APP_ID, INSTALLATION, mount + "/data/github-app/acme")
        .apiUrl(apiUrl())
        .repositories("repo-a")
        .permission("contents", GitHubPermissionLevel.READ)
        .permission("pull_requests", GitHubPermissionLevel.WRITE)
        .bearer()
        .build();
  }

  static SecretValue resolve(GitHubAppTokens tokens, Credential credential) throws Exception {
    return tokens.resolve(credential, SESSION).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static CredentialUnavailableException failure(GitHubAppTokens tokens, Credential credential) {
    Throwable thrown = catchThrowable(() -> resolve(tokens, credential));
    assertThat(thrown).isInstanceOf(ExecutionException.class);
    assertThat(thrown.getCause()).isInstanceOf(CredentialUnavailableException.class);
    CredentialUnavailableException e = (CredentialUnavailableException) thrown.getCause();
    assertThat(e.getMessage())
        .contains("'" + credential.name() + "'")
        .doesNotContain("ghs_")
        .doesNotContain("PRIVATE KEY");
    return e;
  }

  /** Status of a call to the upstream with {@code token}, straight, not through Capgate. */
  static int call(String method, String path, String token) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(apiUrl() + path))
            .header("Authorization", "Bearer " + token)
            .method(
                method,
                method.equals("GET") || method.equals("DELETE")
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString("{}"));
    return trusting.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void concurrentRequestsShareOneScopedTokenThatCannotTouchAnotherRepository() throws Exception {
    GitHubAppTokens tokens = sidecar(bao.address());
    int mintedBefore = app.minted().size();
    Credential credential = github("github");
    List<CompletableFuture<SecretValue>> all = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      all.add(tokens.resolve(credential, SESSION).toCompletableFuture());
    }
    List<String> values = new ArrayList<>();
    for (CompletableFuture<SecretValue> f : all) {
      values.add(f.get(30, TimeUnit.SECONDS).reveal());
    }
    for (int i = 0; i < 10; i++) {
      values.add(resolve(tokens, credential).reveal());
    }
    assertThat(values).as("one token for every request").containsOnly(values.getFirst());
    assertThat(app.minted()).as("one mint").hasSize(mintedBefore + 1);
    String token = values.getFirst();
    assertThat(token).startsWith("ghs_");
    SecretValue value = resolve(tokens, credential);
    assertThat(value.toString()).doesNotContain(token);
    assertThat(value.expiresAt())
        .as("served until 5 min before GitHub's expiry")
        .isBefore(java.time.Instant.now().plus(Duration.ofMinutes(56)));

    // Defence in depth: whatever the session's egress rules say, GitHub holds the token to
    // repo-a and its permissions.
    assertThat(call("GET", "/repos/acme/repo-a", token)).isEqualTo(200);
    assertThat(call("POST", "/repos/acme/repo-a/pulls", token)).isEqualTo(201);
    assertThat(call("GET", "/repos/acme/repo-b", token)).as("another repository").isEqualTo(404);
    assertThat(call("POST", "/repos/acme/repo-b/pulls", token)).isEqualTo(404);
    assertThat(call("PUT", "/repos/acme/repo-a/contents/x", token))
        .as("contents:read only")
        .isEqualTo(403);
    assertThat(call("DELETE", "/repos/acme/repo-a", token)).isEqualTo(403);
  }

  @Test
  void otherCredentialsAreTheBrokersAndEachGitHubAppCredentialHasItsOwnToken() throws Exception {
    GitHubAppTokens tokens = sidecar(bao.address());
    Credential plain =
        AgentSessionBuilder.kv2("plain", mount + "/data/other", "token").bearer().build();
    assertThat(resolve(tokens, plain).reveal()).isEqualTo("plain-vault-value");
    String a = resolve(tokens, github("github-api")).reveal();
    String b = resolve(tokens, github("github-git")).reveal();
    assertThat(a).isNotEqualTo(b);
    assertThat(tokens.liveTokens()).isEqualTo(2);
  }

  @Test
  void aTokenNearItsExpiryIsReplacedAndTheOldOneRevoked() throws Exception {
    GitHubAppTokens tokens = sidecar(bao.address());
    String first = resolve(tokens, github("github")).reveal();
    time.offset.set(Duration.ofMinutes(54));
    assertThat(resolve(tokens, github("github")).reveal())
        .as("6 min before expiry: still served")
        .isEqualTo(first);
    time.offset.set(Duration.ofMinutes(56));
    String second = resolve(tokens, github("github")).reveal();
    assertThat(second).as("4 min before expiry: replaced").isNotEqualTo(first);
    assertThat(call("GET", "/repos/acme/repo-a", second)).isEqualTo(200);
    // The old one is revoked in the background (not yet expired upstream: 401 means revoked).
    int status = 0;
    for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        System.nanoTime() < deadline
            && (status = call("GET", "/repos/acme/repo-a", first)) != 401; ) {
      Thread.sleep(100);
    }
    assertThat(status).isEqualTo(401);
    assertThat(tokens.liveTokens()).isEqualTo(1);
  }

  @Test
  void aSpecEditThatChangesTheRepositoriesGetsANewTokenAndRevokesTheOld() throws Exception {
    GitHubAppTokens tokens = sidecar(bao.address());
    String forA = resolve(tokens, github("github")).reveal();
    Credential edited =
        AgentSessionBuilder.githubApp(
                "github", APP_ID, INSTALLATION, mount + "/data/github-app/acme")
            .apiUrl(apiUrl())
            .repositories("repo-b")
            .permission("contents", GitHubPermissionLevel.READ)
            .bearer()
            .build();
    String forB = resolve(tokens, edited).reveal();
    assertThat(forB).isNotEqualTo(forA);
    assertThat(call("GET", "/repos/acme/repo-b", forB)).isEqualTo(200);
    assertThat(call("GET", "/repos/acme/repo-a", forB)).isEqualTo(404);
    assertThat(revokedWithin(forA, Duration.ofSeconds(10))).as("the token for repo-a").isTrue();
  }

  /** Whether the upstream refuses {@code token} (401) within {@code wait}. */
  static boolean revokedWithin(String token, Duration wait) throws Exception {
    for (long deadline = System.nanoTime() + wait.toNanos(); System.nanoTime() < deadline; ) {
      if (call("GET", "/repos/acme/repo-a", token) == 401) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  @Test
  void theSessionsEndRevokesEveryMintedTokenUpstream() throws Exception {
    GitHubAppTokens tokens = sidecar(bao.address());
    String token = resolve(tokens, github("github")).reveal();
    assertThat(call("GET", "/repos/acme/repo-a", token)).isEqualTo(200);

    tokens.endSession("AgentSession deleted");

    assertThat(call("GET", "/repos/acme/repo-a", token))
        .as("GitHub no longer takes the token")
        .isEqualTo(401);
    assertThat(tokens.liveTokens()).isZero();
    assertThat(failure(tokens, github("github")).reason()).contains("the session has ended");
  }

  @Test
  void theSidecarStoppingRevokesItsTokens() throws Exception {
    GitHubAppTokens tokens = sidecar(bao.address());
    String token = resolve(tokens, github("github")).reveal();
    tokens.close();
    assertThat(call("GET", "/repos/acme/repo-a", token)).isEqualTo(401);
  }

  @Test
  void vaultDownMeansNoTokenAndAReasonWithoutSecrets() throws Exception {
    GitHubAppTokens tokens = sidecar(bao.address());
    int mintedBefore = app.minted().size();
    bao.seal();
    try {
      CredentialUnavailableException e = failure(tokens, github("github"));
      assertThat(e.reason()).contains("GitHub App private key is unavailable");
    } finally {
      bao.unseal();
    }
    assertThat(app.minted()).as("nothing asked of GitHub").hasSize(mintedBefore);
    // Service resumes by itself once Vault answers (after the short failure pause).
    String token = null;
    for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        token == null && System.nanoTime() < deadline; ) {
      try {
        token = resolve(tokens, github("github")).reveal();
      } catch (ExecutionException stillPausing) {
        Thread.sleep(500);
      }
    }
    assertThat(token).startsWith("ghs_");
  }

  @Test
  void aKeyGitHubDoesNotKnowIsRefusedWithoutEchoingAnything() throws Exception {
    bao.putKv(
        mount + "/github-app/stranger",
        Map.of("private_key", GitHubAppFixture.pkcs1(GitHubAppFixture.newKey())));
    bao.putKv(mount + "/github-app/garbage", Map.of("private_key", "not a key at all"));
    GitHubAppTokens tokens = sidecar(bao.address());
    Credential stranger =
        AgentSessionBuilder.githubApp(
                "stranger", APP_ID, INSTALLATION, mount + "/data/github-app/stranger")
            .apiUrl(apiUrl())
            .bearer()
            .build();
    assertThat(failure(tokens, stranger).reason()).contains("HTTP 401");
    Credential garbage =
        AgentSessionBuilder.githubApp(
                "garbage", APP_ID, INSTALLATION, mount + "/data/github-app/garbage")
            .apiUrl(apiUrl())
            .bearer()
            .build();
    assertThat(failure(tokens, garbage).reason()).contains("not a PEM RSA private key");
    Credential tooMuch =
        AgentSessionBuilder.githubApp(
                "too-much", APP_ID, INSTALLATION, mount + "/data/github-app/acme")
            .apiUrl(apiUrl())
            .repositories("repo-c")
            .bearer()
            .build();
    assertThat(failure(tokens, tooMuch).reason()).contains("HTTP 422");
  }
}
