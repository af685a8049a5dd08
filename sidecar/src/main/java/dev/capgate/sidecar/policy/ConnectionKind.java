package dev.capgate.sidecar.policy;

/** What the data plane saw when it peeked at the first bytes of a new connection. */
public enum ConnectionKind {
  TLS,
  PLAINTEXT_HTTP,
  OTHER
}
