package dev.capgate.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.admin.Metrics;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent side on the JDK engine (the fallback, and capgate.tls.agent-engine=jdk): the context
 * {@link AgentTlsContexts} builds itself (to keep Netty's {@code JdkSslServerContext}, and the
 * Bouncy Castle provider it creates, out of the sidecar) offers what {@code
 * SslContextBuilder.forServer(...).sslProvider(JDK)} offered, and a JDK client that trusts only the
 * pod CA handshakes with it for real.
 */
public class AgentTlsContextsTest {
  private static final String HOST = "api.github.test";

  @BeforeEach
  void jdkEngine() {
    // BoringSSL is the agent side's default when it loads; this test checks the JDK engine.
    System.setProperty("capgate.tls.agent-engine", "jdk");
  }

  @AfterEach
  void clear() {
    System.clearProperty("capgate.tls.agent-engine");
  }

  @Test
  void the_agent_side_offers_what_nettys_builder_offered() throws Exception {
    Leaf leaf = new LeafMinter(LeafMinterTest.testCa(), Clock.systemUTC()).mint(HOST);
    SslContext built =
        SslContextBuilder.forServer(leaf.key(), leaf.certificate(), leaf.issuer())
            .sslProvider(SslProvider.JDK)
            .protocols("TLSv1.3", "TLSv1.2")
            .applicationProtocolConfig(
                AlpnOffer.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
            .build();
    SslContext ours = contexts().forHost(HOST).get();

    assertThat(ours.isServer()).isTrue();
    assertThat(ours.cipherSuites()).isEqualTo(built.cipherSuites());
    assertThat(ours.applicationProtocolNegotiator().protocols())
        .containsExactly(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
    SSLEngine a = ours.newEngine(ByteBufAllocator.DEFAULT);
    SSLEngine b = built.newEngine(ByteBufAllocator.DEFAULT);
    assertThat(a.getEnabledProtocols()).containsExactly(b.getEnabledProtocols());
    assertThat(a.getEnabledCipherSuites()).containsExactly(b.getEnabledCipherSuites());
    assertThat(a.getNeedClientAuth()).isFalse();
    assertThat(a.getWantClientAuth()).isFalse();
  }

  @Test
  void an_agent_trusting_the_pod_ca_gets_h2_or_http11_over_tls13_and_tls12() throws Exception {
    SslContext server = contexts().forHost(HOST).get();
    for (String version : List.of("TLSv1.3", "TLSv1.2")) {
      for (String alpn :
          List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)) {
        SslContext client =
            SslContextBuilder.forClient()
                .sslProvider(SslProvider.JDK)
                .trustManager(LeafMinterTest.testCa().certificate())
                .endpointIdentificationAlgorithm("HTTPS")
                .protocols(version)
                .applicationProtocolConfig(AlpnOffer.of(alpn))
                .build();
        SSLEngine c = client.newEngine(ByteBufAllocator.DEFAULT, HOST, 443);
        SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
        TlsEngineTest.handshake(c, s);
        assertThat(c.getSession().getProtocol()).isEqualTo(version);
        assertThat(s.getApplicationProtocol()).isEqualTo(alpn);
        // The leaf and its issuer, the pod CA, as before.
        var chain = c.getSession().getPeerCertificates();
        assertThat(chain).hasSize(2);
        assertThat(((X509Certificate) chain[0]).getSubjectX500Principal().getName()).contains(HOST);
        assertThat(chain[1]).isEqualTo(LeafMinterTest.testCa().certificate());
      }
    }
  }

  /** Leaf contexts from the test CA, minted on the calling thread (the TLS tests share it). */
  public static AgentTlsContexts contexts() throws Exception {
    return new AgentTlsContexts(
        new LeafMinter(LeafMinterTest.testCa(), Clock.systemUTC()),
        Runnable::run,
        Clock.systemUTC(),
        16,
        new Metrics());
  }
}
