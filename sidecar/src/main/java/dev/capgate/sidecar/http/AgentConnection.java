package dev.capgate.sidecar.http;

import dev.capgate.sidecar.policy.ConnectionKind;
import java.net.InetSocketAddress;

/**
 * One accepted agent connection, as the peek and policy saw it.
 *
 * @param id short unique id, the prefix of its request ids
 * @param destination SO_ORIGINAL_DST: where the agent meant to go (only its port is trusted)
 * @param serverName TLS SNI or plaintext Host (no port), lower-case; null if neither was readable
 * @param rule the rule that let the connection through (null when denied without a rule)
 */
public record AgentConnection(
    String id,
    InetSocketAddress client,
    InetSocketAddress destination,
    ConnectionKind kind,
    String serverName,
    String rule,
    long acceptedNanos) {

  public boolean tls() {
    return kind == ConnectionKind.TLS;
  }
}
