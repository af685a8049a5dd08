package dev.capgate.api.v1alpha1;

/** Where a session is in its life. Only {@code Active} lets requests through. */
public enum Phase {
  /** Accepted by the API server, not yet checked by the operator. */
  Pending,
  /** Valid and in force. */
  Active,
  /** Past creation + ttl: sidecars deny. */
  Expired,
  /** Being deleted, or its spec failed validation: sidecars deny. */
  Revoked;

  public boolean allowsTraffic() {
    return this == Active;
  }
}
