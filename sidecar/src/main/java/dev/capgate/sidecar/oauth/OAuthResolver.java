package dev.capgate.sidecar.oauth;

import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.OAuthCredential;
import dev.capgate.api.v1alpha1.TokenExchange;
import dev.capgate.api.v1alpha1.VaultField;
import dev.capgate.api.v1alpha1.VaultPaths;
import dev.capgate.sidecar.credentials.CredentialResolver;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.PolicySource;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.vault.KvStore;
import dev.capgate.sidecar.vault.VaultReadException;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;

/**
 * Credentials of kind {@code oauth}: an access token for the session's user, obtained at egress
 * time from the credential's token endpoint, and cached until shortly before it expires; every
 * other credential goes on to the next resolver (the Vault broker).
 *
 * <ul>
 *   <li>{@code refreshToken}: reads the user's refresh token from KV v2, does the {@code
 *       refresh_token} grant (RFC 6749 §6), and writes a rotated refresh token back to the same
 *       path with check-and-set on the version it read, so two pods of a session never overwrite a
 *       newer grant with an older one (the loser keeps its access token; its next refresh reads the
 *       newer grant).
 *   <li>{@code tokenExchange}: RFC 8693; the subject token is the value of another credential of
 *       the session (the user's own token), the result is bound to {@code audience}/{@code
 *       resource}.
 * </ul>
 *
 * <p>One grant per credential and user at a time (single flight): concurrent requests share it. A
 * failure (grant revoked: {@code invalid_grant}, server down, Vault refusing) is a {@link
 * CredentialUnavailableException} naming the credential with a reason written here, so the request
 * is answered 503 and the reason is on its audit line; it is remembered for a short, growing time
 * (250 ms doubling to 5 s), then the grant is tried again (the user may have authorized anew). No
 * token ever appears in a message or log line. The access token travels as a {@link SecretValue},
 * so the data plane's response scrubber knows it like any other injected value.
 */
public final class OAuthResolver implements CredentialResolver, AutoCloseable {
  static final String TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
  static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
  private static final Duration FIRST_RETRY = Duration.ofMillis(250);
  private static final Duration LAST_RETRY = Duration.ofSeconds(5);
  private static final Logger LOG = Logger.getLogger(OAuthResolver.class.getName());

  private final CredentialResolver next;
  private final KvStore kv;
  private final PolicySource policies;
  private final TokenEndpoint endpoint;
  private final Clock clock;
  private final ExecutorService grants = Executors.newVirtualThreadPerTaskExecutor();
  private final ConcurrentHashMap<String, Entry> cache = new ConcurrentHashMap<>();

  /** One grant of one credential for one user: in flight, done, or failed until retryAfter. */
  private static final class Entry {
    final CompletableFuture<AccessToken> grant = new CompletableFuture<>();
    final int failures;
    volatile Instant freshUntil = Instant.MIN;
    volatile Instant retryAfter = Instant.MIN;

    Entry(int failures) {
      this.failures = failures;
    }
  }

  /**
   * @param kv the session's KV access (null when no Vault is configured: oauth credentials then
   *     fail, as Vault ones do)
   * @param policies where the subject credential of a token exchange is looked up
   */
  OAuthResolver(
      CredentialResolver next,
      KvStore kv,
      PolicySource policies,
      TokenEndpoint endpoint,
      Clock clock) {
    this.next = next;
    this.kv = kv;
    this.policies = policies;
    this.endpoint = endpoint;
    this.clock = clock;
    policies.onRevocation(this::forget);
  }

  /**
   * Wraps {@code next}. Token endpoints are trusted like upstreams: {@code tls} is the sidecar's
   * upstream trust ({@code UpstreamTls.jdkContext()}: the system store plus {@code
   * --upstream-ca-file}, ...), built once for the data plane, the GitHub App calls and these.
   */
  public static OAuthResolver wrap(
      CredentialResolver next, KvStore kv, PolicySource policies, SSLContext tls) {
    Clock clock = Clock.systemUTC();
    return new OAuthResolver(
        next, kv, policies, new TokenEndpoint(tls, Duration.ofSeconds(10), clock), clock);
  }

  @Override
  public CompletionStage<SecretValue> resolve(Credential credential, SessionIdentity session) {
    if (credential.oauth() == null) {
      return next.resolve(credential, session);
    }
    String name = credential.name();
    if (kv == null) {
      return CompletableFuture.failedFuture(
          new CredentialUnavailableException(
              name, "no Vault configured: the OAuth grant and client secret live there"));
    }
    Entry entry = entry(credential, session);
    return entry.grant.handle(
        (token, error) -> {
          if (error != null) {
            throw new CredentialUnavailableException(name, reason(error, credential));
          }
          return new SecretValue(name, token.value(), token.expiresAt());
        });
  }

  /** The fresh token, the grant in flight, a recent failure, or a new grant. */
  private Entry entry(Credential credential, SessionIdentity session) {
    // The grant's settings are part of the key: after a spec change (another audience, another
    // server) a token obtained under the old settings is not served.
    String key = credential.name() + "\n" + session.user() + "\n" + credential.oauth().hashCode();
    return cache.compute(
        key,
        (k, cached) -> {
          Instant now = clock.instant();
          if (cached != null && servable(cached, now)) {
            return cached;
          }
          int failures =
              cached != null && cached.grant.isCompletedExceptionally() ? cached.failures + 1 : 0;
          Entry fresh = new Entry(failures);
          try {
            grants.execute(() -> obtain(fresh, credential, session));
          } catch (RejectedExecutionException e) {
            fresh.grant.completeExceptionally(new IOException("the sidecar is stopping"));
          }
          return fresh;
        });
  }

  private static boolean servable(Entry entry, Instant now) {
    if (!entry.grant.isDone()) {
      return true;
    }
    if (entry.grant.state() == Future.State.SUCCESS) {
      return now.isBefore(entry.freshUntil);
    }
    return now.isBefore(entry.retryAfter);
  }

  private void obtain(Entry entry, Credential credential, SessionIdentity session) {
    Instant started = clock.instant();
    try {
      OAuthCredential oauth = credential.oauth();
      AccessToken token =
          oauth.refreshToken() != null
              ? refresh(credential.name(), oauth, session)
              : exchange(credential.name(), oauth, session);
      entry.freshUntil = token.freshUntil(started);
      entry.grant.complete(token);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      long millis = FIRST_RETRY.toMillis() << Math.min(entry.failures, 10);
      entry.retryAfter = clock.instant().plusMillis(Math.min(millis, LAST_RETRY.toMillis()));
      entry.grant.completeExceptionally(e);
    }
  }

  /** RFC 6749 §6, and the rotated refresh token back into Vault. */
  private AccessToken refresh(String name, OAuthCredential oauth, SessionIdentity session)
      throws IOException, InterruptedException {
    VaultField grant = oauth.refreshToken();
    String path = render(grant.path(), session);
    String field = grant.fieldOr(OAuthCredential.DEFAULT_REFRESH_FIELD);
    KvStore.Versioned stored = kv.read(path);
    String refreshToken = stored.fields().get(field);
    if (refreshToken == null || refreshToken.isEmpty()) {
      throw new CredentialUnavailableException(
          name, "no refresh token in field '" + field + "' at Vault path " + path);
    }
    List<Map.Entry<String, String>> form = new ArrayList<>();
    form.add(Map.entry("grant_type", "refresh_token"));
    form.add(Map.entry("refresh_token", refreshToken));
    addClient(name, form, oauth, session);
    if (oauth.scope() != null) {
      form.add(Map.entry("scope", oauth.scope()));
    }
    AccessToken token = endpoint.request(oauth.tokenUrl(), "refresh_token", form);
    String note = "";
    if (token.refreshToken() != null && !token.refreshToken().equals(refreshToken)) {
      note = writeBack(path, field, stored, token.refreshToken());
    }
    LOG.info(
        "oauth credential '"
            + name
            + "': access token obtained (refresh_token grant at "
            + TokenEndpoint.hostOf(oauth.tokenUrl())
            + ", valid "
            + Duration.between(clock.instant(), token.expiresAt()).toSeconds()
            + " s)"
            + note);
    return token;
  }

  /** Keeps the user's grant alive across pods and restarts; the access token is served anyway. */
  private String writeBack(String path, String field, KvStore.Versioned stored, String rotated) {
    Map<String, String> fields = new HashMap<>(stored.fields());
    fields.put(field, rotated);
    try {
      return switch (kv.writeIfUnchanged(path, fields, stored.version())) {
        case WRITTEN ->
            "; rotated refresh token written to Vault path "
                + path
                + " (version "
                + (stored.version() + 1)
                + ")";
        case CONFLICT -> {
          LOG.warning(
              "rotated refresh token not written to Vault path "
                  + path
                  + ": another writer stored a newer version first (check-and-set); the next"
                  + " refresh reads that one");
          yield "";
        }
      };
    } catch (VaultReadException e) {
      LOG.warning(
          "rotated refresh token could not be written back ("
              + e.getMessage()
              + "): the session's Vault policy must allow update on that path; if the"
              + " authorization server revokes used refresh tokens, the next refresh fails");
      return "";
    }
  }

  /** RFC 8693 with the value of the subject credential as subject_token. */
  private AccessToken exchange(String name, OAuthCredential oauth, SessionIdentity session)
      throws IOException, InterruptedException {
    TokenExchange exchange = oauth.tokenExchange();
    String subjectName = exchange.subjectCredential();
    Credential subject =
        policies
            .current()
            .flatMap(policy -> subjectOf(policy, subjectName))
            .orElseThrow(
                () ->
                    new CredentialUnavailableException(
                        name, "subject credential '" + subjectName + "' is not declared"));
    if (subject.oauth() != null && subject.oauth().tokenExchange() != null) {
      throw new CredentialUnavailableException(
          name, "subject credential '" + subjectName + "' is itself a token exchange");
    }
    SecretValue subjectToken;
    try {
      subjectToken = resolve(subject, session).toCompletableFuture().join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      throw new CredentialUnavailableException(
          name,
          "subject "
              + (cause instanceof CredentialUnavailableException u
                  ? "credential '" + subjectName + "' unavailable: " + u.reason()
                  : "credential '" + subjectName + "' unavailable"));
    }
    List<Map.Entry<String, String>> form = new ArrayList<>();
    form.add(Map.entry("grant_type", TOKEN_EXCHANGE_GRANT));
    form.add(Map.entry("subject_token", subjectToken.reveal()));
    form.add(Map.entry("subject_token_type", exchange.subjectTokenTypeOrDefault().urn()));
    form.add(Map.entry("requested_token_type", ACCESS_TOKEN_TYPE));
    if (exchange.subjectIssuer() != null) {
      form.add(Map.entry("subject_issuer", exchange.subjectIssuer()));
    }
    if (exchange.audience() != null) {
      exchange.audience().forEach(a -> form.add(Map.entry("audience", a)));
    }
    if (exchange.resource() != null) {
      exchange.resource().forEach(r -> form.add(Map.entry("resource", r)));
    }
    if (oauth.scope() != null) {
      form.add(Map.entry("scope", oauth.scope()));
    }
    addClient(name, form, oauth, session);
    AccessToken token = endpoint.request(oauth.tokenUrl(), "token-exchange", form);
    LOG.info(
        "oauth credential '"
            + name
            + "': access token obtained (token exchange at "
            + TokenEndpoint.hostOf(oauth.tokenUrl())
            + (exchange.audience() == null ? "" : " for audience " + exchange.audience())
            + ", valid "
            + Duration.between(clock.instant(), token.expiresAt()).toSeconds()
            + " s)");
    // The exchanged token is what goes upstream; a refresh token that came with it is not kept.
    return new AccessToken(token.value(), token.expiresAt(), null);
  }

  private static Optional<Credential> subjectOf(Policy policy, String name) {
    return policy.credential(name);
  }

  private void addClient(
      String name,
      List<Map.Entry<String, String>> form,
      OAuthCredential oauth,
      SessionIdentity session) {
    form.add(Map.entry("client_id", oauth.clientId()));
    VaultField secret = oauth.clientSecret();
    if (secret != null) {
      String path = render(secret.path(), session);
      String field = secret.fieldOr(OAuthCredential.DEFAULT_CLIENT_SECRET_FIELD);
      String value = kv.read(path).fields().get(field);
      if (value == null || value.isEmpty()) {
        throw new CredentialUnavailableException(
            name, "no client secret in field '" + field + "' at Vault path " + path);
      }
      form.add(Map.entry("client_secret", value));
    }
  }

  private static String render(String template, SessionIdentity session) {
    return VaultPaths.render(
        template, session.user(), session.agent(), session.name(), session.namespace());
  }

  /** Our own words for a failed grant: never a token, never the server's text. */
  private static String reason(Throwable error, Credential credential) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof CredentialUnavailableException u) {
      return u.reason();
    }
    if (cause instanceof GrantRefusedException
        || cause instanceof VaultReadException
        || cause instanceof IOException) {
      return cause.getMessage();
    }
    if (cause instanceof IllegalArgumentException) {
      return "cannot render a Vault path: " + cause.getMessage(); // VaultPaths names placeholders
    }
    return "unexpected error obtaining an OAuth token from "
        + TokenEndpoint.hostOf(credential.oauth().tokenUrl());
  }

  /**
   * The policy was revoked (the session ended, or the API server is out of reach for too long):
   * hold no token past it. Obtaining again is for whoever is allowed a request next.
   */
  private void forget() {
    cache.clear();
  }

  @Override
  public void close() {
    grants.shutdownNow();
    cache.clear();
  }
}
