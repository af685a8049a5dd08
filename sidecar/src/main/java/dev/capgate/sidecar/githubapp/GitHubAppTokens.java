package dev.capgate.sidecar.githubapp;

import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.GitHubAppCredential;
import dev.capgate.api.v1alpha1.VaultEngine;
import dev.capgate.api.v1alpha1.VaultSecret;
import dev.capgate.sidecar.credentials.CredentialResolver;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;

/**
 * GitHub App credentials ({@code githubApp}): installation tokens minted by the sidecar at egress,
 * in front of the resolver of every other credential (the {@code CredentialBroker}), which it also
 * uses to read the App's private key: one Vault path, with the session's own Vault identity.
 *
 * <p>A token is asked for with the credential's repositories and permissions, so GitHub itself
 * refuses it elsewhere, whatever the session's egress rules say (defence in depth). It is served
 * until {@link #REFRESH_BEFORE} before GitHub's {@code expires_at}, or until a spec edit changes
 * the credential's App, repositories or permissions (then replaced); one mint per credential at a
 * time (concurrent requests share it); a failed mint is remembered for {@link #RETRY_AFTER_FAILURE}
 * so an outage does not turn every request into a GitHub call. Every token minted is revoked
 * upstream ({@code DELETE /installation/token}) when the session ends ({@link #endSession}) or the
 * sidecar stops ({@link #close}); a token replaced by a fresh one is revoked then too.
 *
 * <p>Never blocks the caller: mints run on virtual threads. Failures are {@link
 * CredentialUnavailableException}s (503) naming the credential with a reason written here: never
 * the key, the JWT, a token or GitHub's body.
 */
public final class GitHubAppTokens implements CredentialResolver, AutoCloseable {
  /** Per call to GitHub: mint or revoke. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  static final Duration REFRESH_BEFORE = Duration.ofMinutes(5);
  static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(2);
  private static final Duration KEY_READ_TIMEOUT = Duration.ofSeconds(30);
  private static final Logger LOG = Logger.getLogger(GitHubAppTokens.class.getName());

  private final CredentialResolver others;
  private final GitHubAppApi github;
  private final Clock clock;
  private final ExecutorService minters = Executors.newVirtualThreadPerTaskExecutor();
  private final ConcurrentHashMap<String, Mint> mints = new ConcurrentHashMap<>();

  /** Every token minted and not yet revoked, with the API that can revoke it. */
  private final ConcurrentHashMap<String, String> live = new ConcurrentHashMap<>();

  private volatile String endedBecause;

  /**
   * One credential's token: being minted, minted, or failed (then retried after a pause), for the
   * App, repositories and permissions it was asked with.
   */
  private record Mint(
      GitHubAppCredential app, CompletableFuture<InstallationToken> token, Instant retryAfter) {}

  /**
   * @param others resolves every credential that is not a GitHub App, and the App's private key
   * @param upstreamTrust the sidecar's upstream trust (system CAs and the upstream CA file)
   */
  public GitHubAppTokens(
      CredentialResolver others, SSLContext upstreamTrust, Duration timeout, Clock clock) {
    this(others, upstreamTrust, timeout, null, clock);
  }

  /**
   * @param upstreamProxy the CONNECT proxy of {@code --upstream-proxy} (without its credentials: an
   *     authenticating proxy is not supported for these calls yet), or null
   */
  public GitHubAppTokens(
      CredentialResolver others,
      SSLContext upstreamTrust,
      Duration timeout,
      java.net.InetSocketAddress upstreamProxy,
      Clock clock) {
    this.others = Objects.requireNonNull(others, "others");
    this.github = new GitHubAppApi(upstreamTrust, timeout, upstreamProxy);
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public CompletionStage<SecretValue> resolve(Credential credential, SessionIdentity session) {
    GitHubAppCredential app = credential.githubApp();
    if (app == null) {
      return others.resolve(credential, session);
    }
    String name = credential.name();
    String ended = endedBecause;
    if (ended != null) {
      return CompletableFuture.failedFuture(new CredentialUnavailableException(name, ended));
    }
    Mint mint =
        mints.compute(
            name,
            (k, current) -> {
              Instant now = clock.instant();
              // A spec edit that changes the App, repositories or permissions needs a new token
              // at once: the old one may reach what the session no longer names.
              if (current != null && current.app.equals(app) && servable(current, now)) {
                return current;
              }
              if (current != null && current.token.state() == Future.State.SUCCESS) {
                retire(current.token.resultNow()); // due for refresh, or edited: done with it
              }
              CompletableFuture<InstallationToken> token = new CompletableFuture<>();
              try {
                minters.execute(() -> mint(credential, session, token));
              } catch (RejectedExecutionException e) {
                token.completeExceptionally(
                    new CredentialUnavailableException(name, "the sidecar is stopping"));
              }
              return new Mint(app, token, null);
            });
    return mint.token.handle(
        (token, error) -> {
          if (error != null) {
            throw unavailable(name, error);
          }
          String endedMeanwhile = endedBecause;
          if (endedMeanwhile != null) {
            throw new CredentialUnavailableException(name, endedMeanwhile);
          }
          return new SecretValue(name, token.token(), token.expiresAt().minus(REFRESH_BEFORE));
        });
  }

  private boolean servable(Mint mint, Instant now) {
    CompletableFuture<InstallationToken> token = mint.token;
    return switch (token.state()) {
      case RUNNING -> true;
      case SUCCESS -> now.isBefore(token.resultNow().expiresAt().minus(REFRESH_BEFORE));
      default -> mint.retryAfter != null && now.isBefore(mint.retryAfter);
    };
  }

  /** On a virtual thread: the key from Vault (through the broker), the JWT, the mint. */
  private void mint(
      Credential credential, SessionIdentity session, CompletableFuture<InstallationToken> out) {
    String name = credential.name();
    GitHubAppCredential app = credential.githubApp();
    try {
      SecretValue pem = readPrivateKey(credential, session);
      String jwt = AppJwt.sign(AppJwt.privateKey(pem.reveal()), app.appId(), clock.instant());
      InstallationToken token =
          github.mint(
              app.apiUrlOrDefault(),
              jwt,
              app.installationId(),
              app.repositoriesOrEmpty(),
              app.permissionsOrEmpty());
      live.put(token.token(), app.apiUrlOrDefault());
      if (endedBecause != null) {
        revokeQuietly(token.token()); // the session ended while GitHub answered
        throw new CredentialUnavailableException(name, endedBecause);
      }
      LOG.info(
          "credential '"
              + name
              + "': installation token minted for installation "
              + app.installationId()
              + ", "
              + (app.repositories() == null
                  ? "every repository of the installation"
                  : app.repositories().size() + " repositories")
              + ", expires "
              + token.expiresAt());
      out.complete(token);
    } catch (RuntimeException e) {
      mints.computeIfPresent(
          name,
          (k, current) ->
              current.token == out
                  ? new Mint(app, out, clock.instant().plus(RETRY_AFTER_FAILURE))
                  : current);
      out.completeExceptionally(e);
    }
  }

  /**
   * The PEM, read as a KV v2 credential of the same name by the broker: the same Vault identity,
   * cache, back-off and error reasons as every other credential.
   */
  private SecretValue readPrivateKey(Credential credential, SessionIdentity session) {
    GitHubAppCredential app = credential.githubApp();
    Credential key =
        new Credential(
            credential.name(),
            new VaultSecret(
                app.privateKey().path(), app.privateKeyFieldOrDefault(), VaultEngine.KV2),
            credential.inject(),
            null);
    try {
      return others
          .resolve(key, session)
          .toCompletableFuture()
          .get(KEY_READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      CredentialUnavailableException why = unavailable(credential.name(), e.getCause());
      throw new CredentialUnavailableException(
          credential.name(), "the GitHub App private key is unavailable: " + why.reason());
    } catch (TimeoutException e) {
      throw new CredentialUnavailableException(
          credential.name(), "the GitHub App private key could not be read in time");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CredentialUnavailableException(credential.name(), "interrupted");
    }
  }

  private static CredentialUnavailableException unavailable(String name, Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    return switch (cause) {
      case CredentialUnavailableException known -> known;
      case GitHubAppApi.GitHubAppException github ->
          new CredentialUnavailableException(name, github.getMessage());
      case IllegalArgumentException key
          when key.getMessage() != null && key.getMessage().startsWith("the App private key") ->
          new CredentialUnavailableException(name, key.getMessage());
      default ->
          new CredentialUnavailableException(
              name, "unexpected error minting an installation token");
    };
  }

  /** A token due for refresh: revoked in the background, so nothing waits for it. */
  private void retire(InstallationToken token) {
    try {
      minters.execute(() -> revokeQuietly(token.token()));
    } catch (RejectedExecutionException e) {
      // Stopping: close() revokes what is still live.
    }
  }

  private boolean revokeQuietly(String token) {
    String apiUrl = live.remove(token);
    if (apiUrl == null) {
      return true;
    }
    try {
      if (github.revoke(apiUrl, token)) {
        return true;
      }
      LOG.warning("GitHub did not confirm the revocation of an installation token");
    } catch (GitHubAppApi.GitHubAppException e) {
      LOG.warning("an installation token could not be revoked: " + e.getMessage());
    }
    return false;
  }

  /** Tokens minted and not yet revoked (metrics, tests). */
  public int liveTokens() {
    return live.size();
  }

  /**
   * The session is over: serve no token any more and revoke every one minted. Blocks for the
   * revocation calls (one per token, bounded by the timeout): call it off the event loop. A token
   * GitHub could not be reached to revoke expires within the hour by itself.
   */
  public void endSession(String reason) {
    endedBecause = "the session has ended (" + reason + ")";
    mints.clear();
    List<String> tokens = new ArrayList<>(live.keySet());
    int revoked = 0;
    for (String token : tokens) {
      if (revokeQuietly(token)) {
        revoked++;
      }
    }
    if (!tokens.isEmpty()) {
      LOG.info(
          "session ended ("
              + reason
              + "): "
              + revoked
              + " of "
              + tokens.size()
              + " GitHub installation token(s) revoked");
    }
  }

  /** The sidecar stops: every token it minted is revoked; the mint threads stop. */
  @Override
  public void close() {
    if (endedBecause == null) {
      endSession("sidecar stopping");
    }
    minters.shutdownNow();
  }
}
