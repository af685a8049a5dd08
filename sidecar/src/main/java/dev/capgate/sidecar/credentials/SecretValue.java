package dev.capgate.sidecar.credentials;

import dev.capgate.api.v1alpha1.Injection;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A credential value on its way from Vault to one request header. It never prints itself, so a
 * stray log statement or exception message cannot leak it (invariant 1); only {@link #reveal()}
 * gives the value, and only the injector should call it. It carries the name of the credential it
 * was resolved for, so that errors about it can name the credential instead.
 */
public final class SecretValue {
  private final String credential;
  private final String value;
  private final Instant expiresAt;
  private final Map<String, String> parts;

  /**
   * The header this value last became ({@link CredentialInjector#render}), for the injection it
   * became it for: a resolver that hands back the same value object for every request (the broker,
   * while the value is cached) gets it rendered and checked once, not per request.
   */
  private volatile Rendered rendered;

  record Rendered(Injection injection, InjectedHeader header) {}

  /** {@link #part} of an AWS credential: the access key id (the value is the secret key). */
  public static final String AWS_ACCESS_KEY_ID = "accessKeyId";

  /** {@link #part} of temporary AWS keys: the session token. */
  public static final String AWS_SESSION_TOKEN = "sessionToken";

  /**
   * @param credential name of the credential (spec.credentials[].name)
   * @param expiresAt when the value must be fetched again (cache expiry, lease end)
   */
  public SecretValue(String credential, String value, Instant expiresAt) {
    this(credential, value, expiresAt, Map.of());
  }

  /**
   * A value that comes with others from the same Vault read (AWS keys: the secret key as the value,
   * the key id and session token as parts), so they always belong together.
   */
  public SecretValue(
      String credential, String value, Instant expiresAt, Map<String, String> parts) {
    this.credential = Objects.requireNonNull(credential, "credential");
    this.value = Objects.requireNonNull(value, "value");
    this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
    this.parts = Map.copyOf(parts);
  }

  /** Another value read with this one, if there is one of that name. */
  public Optional<String> part(String name) {
    return Optional.ofNullable(parts.get(name));
  }

  /** The value and every part: what the response scrubber must mask. */
  public java.util.List<String> revealAll() {
    java.util.List<String> all = new java.util.ArrayList<>(1 + parts.size());
    all.add(value);
    all.addAll(parts.values());
    return all;
  }

  public String credential() {
    return credential;
  }

  public String reveal() {
    return value;
  }

  public Instant expiresAt() {
    return expiresAt;
  }

  Rendered rendered() {
    return rendered;
  }

  void rendered(Rendered r) {
    rendered = r;
  }

  @Override
  public String toString() {
    return "SecretValue[credential="
        + credential
        + ", value=redacted"
        + (parts.isEmpty() ? "" : ", parts=" + parts.keySet())
        + ", expiresAt="
        + expiresAt
        + "]";
  }
}
