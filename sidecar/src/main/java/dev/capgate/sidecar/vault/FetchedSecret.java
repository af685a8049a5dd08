package dev.capgate.sidecar.vault;

import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.sidecar.credentials.SecretValue;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * One Vault read as cached: the secret's string fields, when they stop working ({@code expiresAt}:
 * lease end, JWT expiry, or the cache TTL for static secrets), until when they are served ({@code
 * freshUntil}, a little earlier so an upstream never receives an expiring value), and the lease if
 * there is one. {@code toString()} shows field names only.
 */
final class FetchedSecret {
  /** How long before expiry a value stops being served: a fifth of its life, at most a minute. */
  static Duration margin(Duration lifetime) {
    Duration fifth = lifetime.dividedBy(5);
    return fifth.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : fifth;
  }

  final Map<String, String> fields;
  final Lease lease;
  volatile Instant expiresAt;
  volatile Instant freshUntil;
  volatile Instant lastUsed;

  /** The value last made from this secret for a credential, while the expiry is unchanged. */
  volatile Served served;

  record Served(Credential credential, Instant expiresAt, SecretValue value) {}

  FetchedSecret(Map<String, String> fields, Instant expiresAt, Instant freshUntil, Lease lease) {
    this.fields = Map.copyOf(fields);
    this.expiresAt = expiresAt;
    this.freshUntil = freshUntil;
    this.lease = lease;
  }

  @Override
  public String toString() {
    return "FetchedSecret[fields="
        + fields.keySet()
        + ", freshUntil="
        + freshUntil
        + (lease == null ? "" : ", " + lease)
        + "]";
  }
}
