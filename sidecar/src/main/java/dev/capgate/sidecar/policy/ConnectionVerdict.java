package dev.capgate.sidecar.policy;

/**
 * The decision on a new connection; {@code rule} is null when no rule matched.
 *
 * @param wouldDeny learn mode let through (spliced or intercepted) a connection policy would
 *     refuse; {@code reason} says why it would have
 */
public record ConnectionVerdict(
    ConnectionAction action, String rule, String reason, boolean wouldDeny) {
  public ConnectionVerdict(ConnectionAction action, String rule, String reason) {
    this(action, rule, reason, false);
  }
}
