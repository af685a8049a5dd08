package dev.capgate.sidecar.githubapp;

import java.time.Instant;

/** A token GitHub minted for an installation, and when GitHub says it expires. */
record InstallationToken(String token, Instant expiresAt) {
  @Override
  public String toString() {
    return "InstallationToken[token=redacted, expiresAt=" + expiresAt + "]";
  }
}
