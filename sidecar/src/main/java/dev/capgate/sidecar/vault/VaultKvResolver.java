package dev.capgate.sidecar.vault;

import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.VaultEngine;
import dev.capgate.sidecar.credentials.CredentialResolver;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.policy.SessionIdentity;
import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import io.github.jopenlibs.vault.response.LogicalResponse;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads KV v2 credentials from Vault at egress time.
 *
 * <p>The spec's path is the Vault API path, {@code data/} included ({@code secret/data/github/{{user}}}),
 * and is read as is: the driver runs in engine-version-1 mode so that it neither inserts another
 * {@code data/} nor needs {@code sys/mounts} rights to find the engine version; the KV v2 envelope
 * ({@code data.data.<field>}) is unwrapped here.
 *
 * <p>Reads run on virtual threads, never on the caller's. Each resolved path is cached for a short
 * time (default 30 s) and read at most once at a time: concurrent callers share one future, and a
 * failed read is not cached, so the next request tries again. Failures complete the stage with a
 * {@link CredentialUnavailableException} naming the credential; the reason never carries the value
 * nor Vault's answer.
 */
public final class VaultKvResolver implements CredentialResolver, AutoCloseable {
  public static final Duration DEFAULT_CACHE_TTL = Duration.ofSeconds(30);
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final Logger LOG = LoggerFactory.getLogger(VaultKvResolver.class);

  private final String address;
  private final VaultTokenSource tokens;
  private final Duration cacheTtl;
  private final HttpClient http;
  private final Clock clock;
  private final ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();
  private final ConcurrentHashMap<String, CompletableFuture<KvSecret>> cache = new ConcurrentHashMap<>();
  private volatile Client client;

  /** The driver for one token; rebuilt when the token changes. */
  private record Client(String token, Vault vault) {
    @Override
    public String toString() {
      return "Client[token=redacted]";
    }
  }

  /** @param address e.g. {@code https://vault:8200} */
  public VaultKvResolver(String address, VaultTokenSource tokens) {
    this(address, tokens, DEFAULT_CACHE_TTL, HttpClient.newBuilder().connectTimeout(TIMEOUT).build(), Clock.systemUTC());
  }

  /** @param http the client for Vault, carrying the TLS settings (trusted CA) for an https address */
  public VaultKvResolver(String address, VaultTokenSource tokens, Duration cacheTtl, HttpClient http, Clock clock) {
    this.address = Objects.requireNonNull(address, "address");
    this.tokens = Objects.requireNonNull(tokens, "tokens");
    this.cacheTtl = Objects.requireNonNull(cacheTtl, "cacheTtl");
    this.http = Objects.requireNonNull(http, "http");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public CompletionStage<SecretValue> resolve(Credential credential, SessionIdentity session) {
    String name = credential.name();
    VaultEngine engine = credential.vault().engineOrDefault();
    if (engine != VaultEngine.KV2) {
      return CompletableFuture.failedFuture(
          new CredentialUnavailableException(name, "Vault engine " + engine + " is not supported yet"));
    }
    String path;
    try {
      path = VaultPathTemplate.render(credential.vault().path(), session);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(new CredentialUnavailableException(name, e.getMessage()));
    }
    String field = credential.vault().fieldOrDefault();
    return secret(path).handle((secret, error) -> {
      if (error != null) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        throw new CredentialUnavailableException(name, cause instanceof VaultReadException
            ? cause.getMessage() : "unexpected error reading Vault path " + path);
      }
      String value = secret.fields().get(field);
      if (value == null) {
        throw new CredentialUnavailableException(name, "field '" + field + "' not found at Vault path " + path);
      }
      return new SecretValue(name, value, secret.freshUntil());
    });
  }

  /** The cached secret of this path, or the read in flight, or a new read. */
  private CompletableFuture<KvSecret> secret(String path) {
    return cache.compute(path, (p, cached) -> isUsable(cached) ? cached
        : CompletableFuture.supplyAsync(() -> read(p), readers));
  }

  private boolean isUsable(CompletableFuture<KvSecret> cached) {
    if (cached == null) {
      return false;
    }
    if (!cached.isDone()) {
      return true;
    }
    return cached.state() == Future.State.SUCCESS
        && clock.instant().isBefore(cached.resultNow().freshUntil());
  }

  private KvSecret read(String path) {
    Vault vault = client().vault();
    LogicalResponse response;
    try {
      response = vault.logical().read(path);
    } catch (VaultException e) {
      throw new VaultReadException(describe(e.getHttpStatusCode(), path));
    } catch (RuntimeException e) {
      LOG.warn("reading Vault path {} failed with {}", path, e.getClass().getName());
      throw new VaultReadException("unexpected error reading Vault path " + path);
    }
    int status = response.getRestResponse().getStatus();
    if (status != 200) {
      throw new VaultReadException(describe(status, path));
    }
    return new KvSecret(fields(response, path), clock.instant().plus(cacheTtl));
  }

  /** KV v2 answers {@code {"data": {"data": {...fields}, "metadata": {...}}}}. */
  private static Map<String, String> fields(LogicalResponse response, String path) {
    JsonObject envelope = response.getDataObject();
    JsonValue data = envelope == null ? null : envelope.get("data");
    if (data == null || !data.isObject()) {
      throw new VaultReadException("Vault path " + path + " is not a KV v2 secret (no data.data)");
    }
    Map<String, String> fields = new HashMap<>();
    for (JsonObject.Member member : data.asObject()) {
      // Only strings are usable as header values; other JSON types are left out as "not found".
      if (member.getValue().isString()) {
        fields.put(member.getName(), member.getValue().asString());
      }
    }
    return Map.copyOf(fields);
  }

  private Client client() {
    String token;
    try {
      token = tokens.token();
    } catch (IOException e) {
      throw new VaultReadException("no Vault token: " + e.getMessage());
    }
    Client current = client;
    if (current == null || !current.token().equals(token)) {
      try {
        VaultConfig config = new VaultConfig().address(address).token(token).engineVersion(1)
            .httpClient(http).openTimeout((int) TIMEOUT.toSeconds()).readTimeout((int) TIMEOUT.toSeconds()).build();
        current = new Client(token, Vault.create(config));
      } catch (VaultException e) {
        throw new VaultReadException("invalid Vault address");
      }
      client = current;
    }
    return current;
  }

  private String describe(int status, String path) {
    return switch (status) {
      case 0 -> "Vault unreachable at " + address;
      case 403 -> "Vault denied access to " + path + " (HTTP 403)";
      case 404 -> "no secret at Vault path " + path + " (HTTP 404)";
      case 503 -> "Vault is sealed or unavailable (HTTP 503)";
      default -> "Vault answered HTTP " + status + " for " + path;
    };
  }

  @Override
  public void close() {
    readers.shutdownNow();
  }
}
