package dev.capgate.sidecar.policy;

/** What the data plane does with a new connection. */
public enum ConnectionAction {
  /**
   * Terminate TLS (or parse plaintext HTTP) and check every request with {@link Policy#onRequest}.
   */
  INTERCEPT,
  /** Splice the TLS bytes to the SNI name untouched: the SNI allowlist is the whole check. */
  PASSTHROUGH,
  /** Splice raw TCP to the original destination (a cidrs rule). */
  TCP,
  DENY
}
