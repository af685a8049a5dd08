package dev.capgate.sidecar.audit;

import java.util.Locale;

/**
 * What the sidecar decided about a connection, request, DNS query or TLS handshake. Written as
 * {@code "decision":"allow"} (or deny, error, would-deny) in audit lines and as the {@code outcome}
 * label of the decision metrics: both are {@link #label()}, so the two never disagree.
 */
public enum Decision {
  /** Let through (forwarded, spliced, answered by the real resolver). */
  ALLOW,
  /** Refused by policy or by a defence (403, TLS alert, close, NXDOMAIN). */
  DENY,
  /** Could not be carried out (upstream unreachable, credentials unavailable, TLS failure). */
  ERROR,
  /**
   * Learn mode ({@code spec.mode: Audit}): policy would have refused it, and it was let through as
   * the agent sent it, without any credential.
   */
  WOULD_DENY;

  private final String label = name().toLowerCase(Locale.ROOT).replace('_', '-');

  /**
   * {@code allow}, {@code deny}, {@code error} or {@code would-deny}: the audit line's value and
   * the metric label.
   */
  public String label() {
    return label;
  }
}
