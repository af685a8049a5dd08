package dev.capgate.sidecar.vault;

import dev.capgate.api.v1alpha1.AwsSigV4Credential;
import dev.capgate.api.v1alpha1.AwsVaultKeys;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.VaultEngine;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.common.vault.VaultStatus;
import dev.capgate.sidecar.credentials.CredentialResolver;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Logger;

/**
 * Credentials at egress time, read from Vault when a request first needs them, with the token of a
 * {@link VaultTokenSource}: the sidecar's own identity ({@link VaultIdentity}) in a cluster, a
 * static token read from a file ({@link TokenFile}) in file mode. One path for both, so the
 * data-plane tests and the bench exercise what production runs.
 *
 * <ul>
 *   <li>{@code kv2}: a static secret, served from the cache for the configured TTL (default 30 s).
 *   <li>{@code dynamic}: a leased secret, served for its lease, renewed while requests use it,
 *       recorded in the session's lease ledger, revoked with the session.
 *   <li>{@code identity-token}: an OpenBao identity JWT ({@code identity/oidc/token/<role>}),
 *       served until shortly before it expires.
 * </ul>
 *
 * <p>Paths are templated ({@code {{user}}}, ...; see {@link VaultPathTemplate}). One read per path
 * at a time: concurrent requests, and several credentials reading fields of the same path (a
 * database username and password, which must come from one lease), share it. A failed read is
 * remembered for a short, growing time ({@link Backoff#standard()}: 250 ms doubling to 5 s) so an
 * outage does not turn every request into a Vault call, and service resumes by itself once Vault
 * answers again.
 *
 * <p>Every failure is a {@link CredentialUnavailableException} naming the credential with a reason
 * written here: never the value, never Vault's answer. Reads run on virtual threads; the returned
 * stage completes on one of them, never on the caller's event loop.
 */
public final class CredentialBroker implements CredentialResolver, AutoCloseable {
  public static final Duration DEFAULT_KV_CACHE_TTL = Duration.ofSeconds(30);
  private static final Logger LOG = Logger.getLogger(CredentialBroker.class.getName());

  private final VaultClient vault;
  private final VaultTokenSource tokens;
  private final Duration kvCacheTtl;
  private final Clock clock;
  private final LeaseKeeper leases;
  private final ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();
  private final ConcurrentHashMap<String, Entry> cache = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, RenderedPath> paths = new ConcurrentHashMap<>();
  private static final int MAX_RENDERED_PATHS = 256;
  private volatile String endedBecause;

  /**
   * A read of one path: in flight, done, or failed (and then not retried before {@code
   * retryAfter}). Consecutive failed reads of a path share one {@link Backoff}, so the wait grows.
   */
  private static final class Entry {
    final CompletableFuture<FetchedSecret> read;
    final Backoff backoff;
    volatile Instant retryAfter;

    Entry(CompletableFuture<FetchedSecret> read, Backoff backoff) {
      this.read = read;
      this.backoff = backoff;
    }
  }

  /**
   * @param tokens the sidecar's Vault identity (cluster mode) or a {@link TokenFile} (file mode)
   */
  public CredentialBroker(
      VaultClient vault,
      VaultTokenSource tokens,
      LeaseRecorder ledger,
      Duration kvCacheTtl,
      Clock clock) {
    this.vault = Objects.requireNonNull(vault, "vault");
    this.tokens = Objects.requireNonNull(tokens, "tokens");
    this.kvCacheTtl = Objects.requireNonNull(kvCacheTtl, "kvCacheTtl");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.leases = new LeaseKeeper(vault, tokens, ledger, clock);
    tokens.onTokenRetired(this::forgetLeasesOf);
  }

  @Override
  public CompletionStage<SecretValue> resolve(Credential credential, SessionIdentity session) {
    String name = credential.name();
    String ended = endedBecause;
    if (ended != null) {
      return CompletableFuture.failedFuture(new CredentialUnavailableException(name, ended));
    }
    AwsSigV4Credential aws = credential.awsSigV4();
    VaultEngine engine =
        aws != null ? aws.vault().engineOrDefault() : credential.vault().engineOrDefault();
    RenderedPath rendered;
    try {
      rendered =
          renderedPath(
              engine, aws != null ? aws.vault().path() : credential.vault().path(), session);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(
          new CredentialUnavailableException(name, e.getMessage()));
    }
    String path = rendered.path;
    // The hot path: a fresh value already read. Served as a completed stage, with the value object
    // made for this credential the last time (no cache lookup lambda, no new SecretValue).
    Entry cached = cache.get(rendered.key);
    if (cached != null && cached.read.state() == Future.State.SUCCESS) {
      FetchedSecret secret = cached.read.resultNow();
      Instant now = clock.instant();
      if (now.isBefore(secret.freshUntil)) {
        secret.lastUsed = now;
        try {
          return CompletableFuture.completedFuture(value(credential, secret, path));
        } catch (CredentialUnavailableException e) {
          return CompletableFuture.failedFuture(e);
        }
      }
    }
    return secret(engine, rendered.key, path)
        .handle(
            (secret, error) -> {
              if (error != null) {
                Throwable cause =
                    error instanceof CompletionException && error.getCause() != null
                        ? error.getCause()
                        : error;
                throw new CredentialUnavailableException(
                    name,
                    cause instanceof VaultReadException
                        ? cause.getMessage()
                        : "unexpected error reading Vault path " + path);
              }
              String endedMeanwhile = endedBecause;
              if (endedMeanwhile != null) {
                throw new CredentialUnavailableException(
                    name, endedMeanwhile); // read in flight when the session ended
              }
              secret.lastUsed = clock.instant();
              return value(credential, secret, path);
            });
  }

  /**
   * A credential's path rendered for a session, and its cache key. Memoized per template: filling
   * and checking the template and building the key were a few strings per request (issue 13).
   */
  private record RenderedPath(
      SessionIdentity session, VaultEngine engine, String path, String key) {}

  private RenderedPath renderedPath(VaultEngine engine, String template, SessionIdentity session) {
    RenderedPath known = template == null ? null : paths.get(template);
    if (known != null
        && known.engine == engine
        && (known.session == session || known.session.equals(session))) {
      return known;
    }
    String path = VaultPathTemplate.render(template, session);
    RenderedPath rendered = new RenderedPath(session, engine, path, engine.name() + " " + path);
    if (paths.size() >= MAX_RENDERED_PATHS) {
      paths.clear(); // templates come from the session's spec: only a changed spec gets here
    }
    paths.put(template, rendered);
    return rendered;
  }

  /**
   * The value this credential takes from a secret, the same object as long as the secret's expiry
   * has not moved (a renewed lease moves it): made once per read, not once per request.
   */
  private static SecretValue value(Credential credential, FetchedSecret secret, String path) {
    Instant expiresAt = secret.expiresAt;
    FetchedSecret.Served served = secret.served;
    if (served != null && served.credential() == credential && served.expiresAt() == expiresAt) {
      return served.value();
    }
    String name = credential.name();
    AwsSigV4Credential aws = credential.awsSigV4();
    SecretValue value =
        aws != null
            ? awsKeys(name, aws.vault(), secret, path, expiresAt)
            : new SecretValue(
                name, field(name, secret, credential.vault().fieldOrDefault(), path), expiresAt);
    secret.served = new FetchedSecret.Served(credential, expiresAt, value);
    return value;
  }

  /** The secret key as the value, the key id and (temporary keys) session token as parts. */
  private static SecretValue awsKeys(
      String name, AwsVaultKeys keys, FetchedSecret secret, String path, Instant expiresAt) {
    Map<String, String> parts = new HashMap<>();
    parts.put(
        SecretValue.AWS_ACCESS_KEY_ID, field(name, secret, keys.accessKeyIdFieldOrDefault(), path));
    String token = secret.fields.get(keys.sessionTokenFieldOrDefault());
    if (token != null && !token.isEmpty()) {
      parts.put(SecretValue.AWS_SESSION_TOKEN, token);
    }
    return new SecretValue(
        name, field(name, secret, keys.secretAccessKeyFieldOrDefault(), path), expiresAt, parts);
  }

  private static String field(String name, FetchedSecret secret, String field, String path) {
    String value = secret.fields.get(field);
    if (value == null) {
      throw new CredentialUnavailableException(
          name, "field '" + field + "' not found at Vault path " + path);
    }
    return value;
  }

  /** The cached secret of this path, or the read in flight, or a recent failure, or a new read. */
  private CompletableFuture<FetchedSecret> secret(VaultEngine engine, String key, String path) {
    Entry entry =
        cache.compute(
            key,
            (k, cached) -> {
              Instant now = clock.instant();
              if (cached != null && servable(cached, now)) {
                return cached;
              }
              Backoff backoff =
                  cached != null && cached.read.isCompletedExceptionally()
                      ? cached.backoff
                      : Backoff.standard();
              Entry fresh = new Entry(new CompletableFuture<>(), backoff);
              try {
                readers.execute(() -> complete(fresh, key, engine, path));
              } catch (RejectedExecutionException e) {
                fresh.read.completeExceptionally(new VaultReadException("the sidecar is stopping"));
              }
              return fresh;
            });
    return entry.read;
  }

  private static boolean servable(Entry entry, Instant now) {
    CompletableFuture<FetchedSecret> read = entry.read;
    if (!read.isDone()) {
      return true;
    }
    if (read.state() == Future.State.SUCCESS) {
      return now.isBefore(read.resultNow().freshUntil);
    }
    Instant retryAfter = entry.retryAfter;
    return retryAfter != null && now.isBefore(retryAfter);
  }

  private void complete(Entry entry, String key, VaultEngine engine, String path) {
    try {
      FetchedSecret secret = fetch(engine, path);
      if (secret.lease != null) {
        leases.track(
            secret,
            () ->
                cache.computeIfPresent(
                    key, (k, cached) -> cached.read.getNow(null) == secret ? null : cached));
      }
      entry.read.complete(secret);
    } catch (RuntimeException e) {
      entry.retryAfter = clock.instant().plus(entry.backoff.failed());
      entry.read.completeExceptionally(e);
    }
  }

  /** One read with the current token; a token found dead is replaced once by a new login. */
  private FetchedSecret fetch(VaultEngine engine, String path) {
    for (int attempt = 0; ; attempt++) {
      VaultToken token = tokens.current();
      VaultReply reply = vault.call("GET", path, token.token(), null);
      if (reply.status() == 403 && attempt == 0 && tokens.dropIfDead(token.token())) {
        continue;
      }
      if (!reply.ok()) {
        throw new VaultReadException(VaultStatus.describe(reply.status(), path));
      }
      Instant now = clock.instant();
      return switch (engine) {
        case KV2 -> SecretEngines.kv2(reply, path, now, kvCacheTtl);
        case IDENTITY_TOKEN -> SecretEngines.identityToken(reply, path, now);
        case DYNAMIC -> SecretEngines.dynamic(reply, path, now, kvCacheTtl, token.accessor());
      };
    }
  }

  /** Vault revoked the leases of a retired token with it: serve none of them any more. */
  private void forgetLeasesOf(String tokenAccessor) {
    cache
        .values()
        .removeIf(
            entry -> {
              FetchedSecret secret = entry.read.getNow(null);
              return secret != null
                  && secret.lease != null
                  && secret.lease.tokenAccessor.equals(tokenAccessor);
            });
    leases.forgetLeasesOf(tokenAccessor);
  }

  /**
   * The session is over (deleted, expired, revoked): serve nothing more, forget every cached value,
   * and revoke the sidecar's Vault token, which makes Vault revoke every lease created with it. The
   * ledger keeps what could not be revoked, for the operator.
   */
  public void endSession(String reason) {
    endedBecause = "the session has ended (" + reason + ")";
    cache.clear();
    leases.close();
    int live = leases.live().size();
    if (tokens.revoke()) {
      LOG.info(
          "session ended ("
              + reason
              + "): cached credentials dropped; Vault token revoked, and with it "
              + live
              + " lease(s)");
    } else {
      LOG.warning(
          "session ended ("
              + reason
              + "): cached credentials dropped; the Vault token could not be revoked"
              + " now: it stays in the lease ledger for the operator");
    }
  }

  /**
   * Uncached KV v2 reads and check-and-set writes with this broker's Vault token (OAuth refresh
   * tokens, which the authorization server rotates).
   */
  public KvStore kvStore() {
    return new KvStore(vault, tokens);
  }

  /** Lease renewals so far (for metrics and tests). */
  public long leaseRenewals() {
    return leases.renewals();
  }

  @Override
  public void close() {
    leases.close();
    readers.shutdownNow();
  }
}
