package dev.capgate.sidecar.vault;

import java.time.Duration;

/**
 * A Vault token as a login or renewal returned it. {@code toString()} shows the accessor (an id
 * that can revoke or look up the token but not use it) and never the token.
 */
public record VaultToken(String token, String accessor, Duration ttl, boolean renewable) {
  @Override
  public String toString() {
    return "VaultToken[token=redacted, accessor="
        + accessor
        + ", ttl="
        + ttl
        + ", renewable="
        + renewable
        + "]";
  }
}
