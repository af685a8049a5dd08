package dev.capgate.sidecar.credentials;

import java.time.Instant;
import java.util.Objects;

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

  /**
   * @param credential name of the credential (spec.credentials[].name)
   * @param expiresAt when the value must be fetched again (cache expiry, lease end)
   */
  public SecretValue(String credential, String value, Instant expiresAt) {
    this.credential = Objects.requireNonNull(credential, "credential");
    this.value = Objects.requireNonNull(value, "value");
    this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
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

  @Override
  public String toString() {
    return "SecretValue[credential="
        + credential
        + ", value=redacted, expiresAt="
        + expiresAt
        + "]";
  }
}
