package dev.capgate.sidecar.vault;

import java.time.Duration;
import java.time.Instant;

/**
 * A Vault lease behind a dynamic secret. Its expiry moves with each renewal; {@code tokenAccessor}
 * names the token that created it, because Vault revokes a lease together with that token.
 */
final class Lease {
  final String id;
  final Duration duration;
  final boolean renewable;
  final String tokenAccessor;
  volatile Instant expiresAt;
  volatile Instant renewedAt;
  volatile boolean over;

  /** Failed renewals wait longer each time, like every other Vault retry in the sidecar. */
  final Backoff renewBackoff = Backoff.standard();

  Lease(String id, Duration duration, boolean renewable, String tokenAccessor, Instant obtainedAt) {
    this.id = id;
    this.duration = duration;
    this.renewable = renewable;
    this.tokenAccessor = tokenAccessor;
    this.renewedAt = obtainedAt;
    this.expiresAt = obtainedAt.plus(duration);
  }

  @Override
  public String toString() {
    return "Lease[" + id + ", expires " + expiresAt + "]";
  }
}
