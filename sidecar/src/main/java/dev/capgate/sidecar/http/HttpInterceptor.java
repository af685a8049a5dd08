package dev.capgate.sidecar.http;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;

/**
 * What the http package offers the connection router: the pipelines that terminate an intercepted
 * connection. The router sees only this interface and {@link AgentConnection}, never the requests,
 * credentials or upstream links behind it; http in turn never reaches back into intercept.
 */
public interface HttpInterceptor {
  /**
   * Adds the handlers that terminate the agent's traffic to the end of {@code agent}'s pipeline.
   *
   * @param agentTls the server context with the leaf for the SNI host, or null for plaintext HTTP
   */
  void install(Channel agent, AgentConnection connection, SslContext agentTls);
}
