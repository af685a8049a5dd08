package dev.capgate.sidecar.oauth;

import java.time.Duration;
import java.time.Instant;

/**
 * What a token endpoint granted: the access token, when it expires, and the refresh token it
 * returned if any (rotated or the same). {@code toString()} shows neither token.
 */
record AccessToken(String value, Instant expiresAt, String refreshToken) {
  /** Served until a fifth of its life before expiry (at most a minute): never sent expiring. */
  Instant freshUntil(Instant obtained) {
    Duration life = Duration.between(obtained, expiresAt);
    Duration fifth = life.dividedBy(5);
    return expiresAt.minus(
        fifth.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : fifth);
  }

  @Override
  public String toString() {
    return "AccessToken[value=redacted, expiresAt="
        + expiresAt
        + ", refreshToken="
        + (refreshToken == null ? "none" : "redacted")
        + "]";
  }
}
