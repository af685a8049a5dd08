package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How a credential's Vault path is read, and so how long its value may be cached. */
public enum VaultEngine {
  /** A KV v2 secret: {@code data.data.<field>}; cached for a short configured time. */
  @JsonProperty("kv2")
  KV2,
  /**
   * A leased secret ({@code data.<field>}, {@code lease_id}): renewed while used, revoked with the
   * session.
   */
  @JsonProperty("dynamic")
  DYNAMIC,
  /**
   * An OpenBao identity token ({@code data.token}, {@code data.ttl}): a JWT an API verifies against
   * OpenBao's JWKS.
   */
  @JsonProperty("identity-token")
  IDENTITY_TOKEN
}
