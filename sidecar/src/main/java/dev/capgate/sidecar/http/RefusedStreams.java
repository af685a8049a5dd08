package dev.capgate.sidecar.http;

import dev.capgate.sidecar.audit.AuditEvent;
import dev.capgate.sidecar.audit.Decision;
import dev.capgate.sidecar.audit.Flow;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.SessionIdentity;

/**
 * The audit line of an HTTP/2 stream refused before it became an {@link Exchange}: a malformed head
 * {@link H2RequestCapture} resets, or a stream Netty's HTTP/2 codec resets itself ({@link
 * H2ServerCodec}). One line per refused stream, decision {@code deny}, never a header value.
 */
final class RefusedStreams {
  private final HttpServices services;
  private final AgentConnection connection;

  RefusedStreams(HttpServices services, AgentConnection connection) {
    this.services = services;
    this.connection = connection;
  }

  /**
   * @param method the request's {@code :method}, or null when unknown
   * @param path the request's {@code :path}, or null when unknown
   */
  void recordOutcome(String method, String path, String reason) {
    SessionIdentity s = services.policies().current().map(Policy::session).orElse(null);
    services
        .audit()
        .record(
            AuditEvent.request(
                services.requestIds().next(),
                s,
                connection.serverName(),
                method,
                path,
                connection.rule(),
                Decision.DENY,
                null,
                null,
                0,
                reason,
                new Flow("h2", connection.destination(), 0, 0, null)));
  }
}
