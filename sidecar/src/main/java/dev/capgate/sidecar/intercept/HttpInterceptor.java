package dev.capgate.sidecar.intercept;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;

/**
 * What the http package offers the connection router: the pipelines that terminate an intercepted
 * connection. Kept as an interface so that intercept (bytes, addresses, policy per connection) does
 * not depend on http (requests, credentials) and the two stay separately testable.
 */
public interface HttpInterceptor {
  /**
   * Adds the handlers that terminate the agent's traffic to the end of {@code agent}'s pipeline.
   *
   * @param agentTls the server context with the leaf for the SNI host, or null for plaintext HTTP
   */
  void install(Channel agent, AgentConnection connection, SslContext agentTls);
}
