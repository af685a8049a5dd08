package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.audit.AuditLog;
import dev.capgate.sidecar.tls.AgentTlsContextsTest;
import dev.capgate.sidecar.tls.AlpnOffer;
import dev.capgate.sidecar.tls.LeafMinterTest;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.OutputStream;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/**
 * What stays in an agent TLS connection's pipeline once the handshake is done. The plaintext-alert
 * scanner in front of the SslHandler looks at every read while it is there; the handshake's
 * completion event travels from the SslHandler towards the tail, so the scanner, in front of it,
 * never saw it and stayed for the connection's life (found in an allocation profile, issue 13).
 */
class AgentTlsPipelineTest {
  @Test
  void a_completed_handshake_leaves_neither_the_alert_scanner_nor_the_outcome_watcher()
      throws Exception {
    SslContext agentSide = AgentTlsContextsTest.contexts().forHost("api.github.test").get();
    EmbeddedChannel server = new EmbeddedChannel();
    new HttpTermination(
            EmbeddedH2Termination.services(
                new AuditLog(OutputStream.nullOutputStream(), Clock.systemUTC())))
        .install(server, EmbeddedH2Termination.connection(), agentSide);
    assertThat(server.pipeline().names()).contains("tls-alerts", "tls", "tls-outcome");

    SslContext agentTrust =
        SslContextBuilder.forClient()
            .trustManager(LeafMinterTest.testCa().certificate())
            .applicationProtocolConfig(AlpnOffer.of(ApplicationProtocolNames.HTTP_1_1))
            .build();
    SslHandler agentTls = agentTrust.newHandler(ByteBufAllocator.DEFAULT, "api.github.test", 443);
    EmbeddedChannel agent = new EmbeddedChannel(agentTls);
    SslHandler sidecarTls = server.pipeline().get(SslHandler.class);
    for (int flight = 0; flight < 8 && !sidecarTls.handshakeFuture().isDone(); flight++) {
      EmbeddedH2Termination.shuttle(agent, server);
      EmbeddedH2Termination.shuttle(server, agent);
    }

    assertThat(agentTls.handshakeFuture().isSuccess())
        .as("agent's handshake: %s", agentTls.handshakeFuture().cause())
        .isTrue();
    assertThat(sidecarTls.handshakeFuture().isSuccess())
        .as("sidecar's handshake: %s", sidecarTls.handshakeFuture().cause())
        .isTrue();
    assertThat(server.pipeline().names())
        .contains("tls")
        .doesNotContain("tls-alerts", "tls-outcome");
    agent.finishAndReleaseAll();
    server.finishAndReleaseAll();
  }
}
