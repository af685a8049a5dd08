package dev.capgate.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.testkit.Pki;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both TLS sides on BoringSSL, handshaking for real (engine to engine, in memory): the native
 * engine is really the one in use, and ALPN, TLS 1.2/1.3, host name verification and resumption
 * behave as they did on the JDK engine.
 */
class TlsEngineTest {
  private static final Pki UPSTREAM_CA = new Pki("upstream CA (TlsEngineTest)");
  @TempDir Path dir;
  private final List<SSLEngine> engines = new java.util.ArrayList<>();

  @AfterEach
  void release() {
    engines.forEach(ReferenceCountUtil::release);
  }

  @Test
  void the_shipped_native_library_loads_and_both_sides_use_it() throws Exception {
    assertThat(OpenSsl.isAvailable())
        .as("netty-tcnative-boringssl-static linux-x86_64: %s", OpenSsl.unavailabilityCause())
        .isTrue();
    assertThat(TlsEngine.openSsl()).isTrue();
    SslContext agent = agentContexts().forHost("api.github.test").get();
    assertThat(agent.newEngine(ByteBufAllocator.DEFAULT))
        .isInstanceOf(ReferenceCountedOpenSslEngine.class);
    assertThat(upstreamTls().newHandler(ByteBufAllocator.DEFAULT, "api.github.test", 443).engine())
        .isInstanceOf(ReferenceCountedOpenSslEngine.class);
  }

  @Test
  void agent_side_offers_h2_and_http11_on_tls13_and_tls12_and_resumes() throws Exception {
    AgentTlsContexts contexts = agentContexts();
    SslContext server = contexts.forHost("api.github.test").get();
    for (String version : List.of("TLSv1.3", "TLSv1.2")) {
      for (String alpn :
          List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)) {
        SslContext client = agentClient(version, alpn);
        SSLEngine c = engine(client, "api.github.test", 443);
        SSLEngine s = engine(server, null, 0);
        handshake(c, s);
        assertThat(c.getSession().getProtocol()).isEqualTo(version);
        assertThat(s.getApplicationProtocol()).isEqualTo(alpn);
      }
    }
  }

  /**
   * A real OpenSSL client (the {@code openssl} command, as curl and Python use the library) comes
   * back with the ticket the sidecar's leaf context gave it: the handshake is resumed, over TLS 1.3
   * and TLS 1.2, as with the JDK engine before.
   */
  @Test
  void agents_resume_their_sessions_over_tls13_and_tls12() throws Exception {
    SslContext server = agentContexts().forHost("api.github.test").get();
    Path caFile =
        Files.writeString(dir.resolve("pod-ca.pem"), PodCaPem.of(LeafMinterTest.testCa()));
    var group =
        new io.netty.channel.MultiThreadIoEventLoopGroup(
            1, io.netty.channel.nio.NioIoHandler.newFactory());
    try {
      io.netty.channel.Channel listener =
          new io.netty.bootstrap.ServerBootstrap()
              .group(group)
              .channel(io.netty.channel.socket.nio.NioServerSocketChannel.class)
              .childHandler(
                  new io.netty.channel.ChannelInitializer<io.netty.channel.Channel>() {
                    @Override
                    protected void initChannel(io.netty.channel.Channel ch) {
                      ch.pipeline().addLast(server.newHandler(ch.alloc()));
                      ch.pipeline()
                          .addLast(
                              new io.netty.channel.ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(
                                    io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                                  ReferenceCountUtil.release(msg);
                                  ctx.close(); // the client's line came: its tickets are in
                                }
                              });
                    }
                  })
              .bind("127.0.0.1", 0)
              .sync()
              .channel();
      int port = ((java.net.InetSocketAddress) listener.localAddress()).getPort();
      for (String version : List.of("-tls1_3", "-tls1_2")) {
        Path session = dir.resolve("session" + version);
        assertThat(sClient(port, caFile, version, "-sess_out", session)).contains("New, TLSv1.");
        assertThat(sClient(port, caFile, version, "-sess_in", session))
            .as("resumed with %s", version)
            .contains("Reused, TLSv1.");
      }
      listener.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }
  }

  private static String sClient(int port, Path ca, String version, String sessionFlag, Path session)
      throws Exception {
    Process p =
        new ProcessBuilder(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-servername",
                "api.github.test",
                "-CAfile",
                ca.toString(),
                "-verify_return_error",
                version,
                "-ign_eof",
                sessionFlag,
                session.toString())
            .redirectErrorStream(true)
            .start();
    p.getOutputStream().write("hello\n".getBytes());
    p.getOutputStream().close();
    assertThat(p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(out).contains("Verify return code: 0 (ok)");
    return out;
  }

  /** The pod CA certificate as PEM, for the openssl command. */
  private static final class PodCaPem {
    static String of(PodCa ca) throws Exception {
      return "-----BEGIN CERTIFICATE-----\n"
          + java.util.Base64.getMimeEncoder(64, "\n".getBytes())
              .encodeToString(ca.certificate().getEncoded())
          + "\n-----END CERTIFICATE-----\n";
    }
  }

  /** A client offering both (curl, the JDK's HttpClient) gets h2, the sidecar's first choice. */
  @Test
  void a_client_offering_h2_and_http11_gets_h2() throws Exception {
    SslContext server = agentContexts().forHost("api.github.test").get();
    SslContext client =
        SslContextBuilder.forClient()
            .sslProvider(SslProvider.JDK)
            .trustManager(LeafMinterTest.testCa().certificate())
            .applicationProtocolConfig(
                AlpnOffer.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
            .build();
    SSLEngine c = engine(client, "api.github.test", 443);
    SSLEngine s = engine(server, null, 0);
    handshake(c, s);
    assertThat(c.getApplicationProtocol()).isEqualTo(ApplicationProtocolNames.HTTP_2);
  }

  @Test
  void upstream_side_verifies_the_chain_and_the_name_speaks_http11_and_resumes() throws Exception {
    UpstreamTls upstream = upstreamTls();
    // A JDK-engine upstream (the bench's and the ITs' Vert.x servers are JDK TLS).
    Pki.Issued cert = UPSTREAM_CA.issueServer("upstream", List.of("api.github.test"), List.of());
    SslContext server =
        SslContextBuilder.forServer(cert.key(), cert.certificate(), UPSTREAM_CA.caCertificate())
            .sslProvider(SslProvider.JDK)
            .protocols("TLSv1.3", "TLSv1.2")
            .applicationProtocolConfig(AlpnOffer.of(ApplicationProtocolNames.HTTP_1_1))
            .build();
    SSLEngine c =
        track(upstream.newHandler(ByteBufAllocator.DEFAULT, "api.github.test", 8443).engine());
    handshake(c, engine(server, null, 0));
    assertThat(c.getApplicationProtocol()).isEqualTo(ApplicationProtocolNames.HTTP_1_1);
    assertThat(c.getSession().getProtocol()).isEqualTo("TLSv1.3");
    SSLEngine c2 =
        track(upstream.newHandler(ByteBufAllocator.DEFAULT, "api.github.test", 8443).engine());
    handshake(c2, engine(server, null, 0));
    assertThat(reused(c2)).as("upstream session resumed").isTrue();

    // Another name on the same certificate: refused, with the reason the audit line gives.
    SSLEngine wrongName =
        track(upstream.newHandler(ByteBufAllocator.DEFAULT, "evil.test", 8443).engine());
    assertThatThrownBy(() -> handshake(wrongName, engine(server, null, 0)))
        .satisfies(
            e ->
                assertThat(TlsFailures.describeUpstream(e))
                    .isEqualTo(
                        "certificate verify failed: the upstream's certificate does not name the host"));

    // A certificate from a CA the sidecar does not trust.
    Pki other = new Pki("someone else's CA");
    Pki.Issued foreign = other.issueServer("x", List.of("api.github.test"), List.of());
    SslContext foreignServer =
        SslContextBuilder.forServer(foreign.key(), foreign.certificate())
            .sslProvider(SslProvider.JDK)
            .build();
    SSLEngine untrusted =
        track(upstream.newHandler(ByteBufAllocator.DEFAULT, "api.github.test", 9443).engine());
    assertThatThrownBy(() -> handshake(untrusted, engine(foreignServer, null, 0)))
        .satisfies(
            e ->
                assertThat(TlsFailures.describeUpstream(e))
                    .startsWith("certificate verify failed: the upstream's certificate"));
  }

  @Test
  void a_client_certificate_demand_is_named_from_boringssl_alerts() throws Exception {
    Pki.Issued cert = UPSTREAM_CA.issueServer("upstream", List.of("mtls.test"), List.of());
    SslContext server =
        SslContextBuilder.forServer(cert.key(), cert.certificate(), UPSTREAM_CA.caCertificate())
            .sslProvider(SslProvider.JDK)
            .clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE)
            .trustManager(UPSTREAM_CA.caCertificate())
            .build();
    SSLEngine c =
        track(upstreamTls().newHandler(ByteBufAllocator.DEFAULT, "mtls.test", 443).engine());
    assertThatThrownBy(() -> handshake(c, engine(server, null, 0)))
        .satisfies(e -> assertThat(TlsFailures.describeUpstream(e)).contains("(mutual TLS)"));
  }

  // ------------------------------------------------------------------ helpers

  private AgentTlsContexts agentContexts() throws Exception {
    return AgentTlsContextsTest.contexts();
  }

  private UpstreamTls upstreamTls() throws Exception {
    Path ca = dir.resolve("upstream-ca.pem");
    Files.writeString(ca, UPSTREAM_CA.caCertPem());
    return UpstreamTls.create(ca);
  }

  /**
   * An agent: trusts the pod CA, one TLS version, one ALPN protocol. The JDK's client, as a Java
   * agent's: Netty's BoringSSL client drops a TLS 1.3 ticket that a BoringSSL server sends before
   * the client's Finished (curl and Python keep theirs).
   */
  private static SslContext agentClient(String version, String protocol) throws Exception {
    SslContext client =
        SslContextBuilder.forClient()
            .sslProvider(SslProvider.JDK)
            .trustManager(LeafMinterTest.testCa().certificate())
            .endpointIdentificationAlgorithm("HTTPS")
            .protocols(version)
            .applicationProtocolConfig(AlpnOffer.of(protocol))
            .build();
    return client;
  }

  private SSLEngine engine(SslContext context, String host, int port) {
    return track(
        host == null
            ? context.newEngine(ByteBufAllocator.DEFAULT)
            : context.newEngine(ByteBufAllocator.DEFAULT, host, port));
  }

  private SSLEngine track(SSLEngine engine) {
    engines.add(engine);
    return engine;
  }

  private static boolean reused(SSLEngine engine) throws Exception {
    Method m = ReferenceCountedOpenSslEngine.class.getDeclaredMethod("isSessionReused");
    m.setAccessible(true);
    return (boolean) m.invoke(engine);
  }

  /**
   * Pumps records between the two engines until both finish (and the server's post-handshake
   * messages, TLS 1.3 session tickets, have reached the client), or one throws.
   */
  static void handshake(SSLEngine client, SSLEngine server) throws SSLException {
    client.beginHandshake();
    server.beginHandshake();
    ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
    ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
    ByteBuffer app = ByteBuffer.allocate(1 << 17);
    ByteBuffer empty = ByteBuffer.allocate(0);
    SSLException serverFailure = null;
    for (int round = 0; round < 50; round++) {
      step(client, empty, toServer, toClient, app);
      try {
        step(server, empty, toClient, toServer, app);
      } catch (SSLException e) {
        // What the client sees is what counts: the server's alert goes out on its next wrap.
        serverFailure = e;
        toServer.clear();
        server.wrap(empty, toClient);
      }
      boolean done =
          done(client.getHandshakeStatus())
              && done(server.getHandshakeStatus())
              && toServer.position() == 0
              && toClient.position() == 0;
      if (done && round > 3) {
        return;
      }
    }
    if (serverFailure != null) {
      throw serverFailure;
    }
    throw new AssertionError("handshake did not finish");
  }

  static boolean done(HandshakeStatus s) {
    return s == HandshakeStatus.NOT_HANDSHAKING || s == HandshakeStatus.FINISHED;
  }

  /** One engine's turn: read what the peer sent, run tasks, write what it has to send. */
  static void step(
      SSLEngine engine, ByteBuffer empty, ByteBuffer out, ByteBuffer in, ByteBuffer app)
      throws SSLException {
    in.flip();
    while (in.hasRemaining()) {
      app.clear();
      var r = engine.unwrap(in, app);
      runTasks(engine);
      if (r.bytesConsumed() == 0 && r.getHandshakeStatus() != HandshakeStatus.NEED_UNWRAP_AGAIN) {
        break;
      }
    }
    in.compact();
    while (true) {
      var r = engine.wrap(empty, out);
      runTasks(engine);
      if (r.bytesProduced() == 0) {
        break;
      }
    }
  }

  private static void runTasks(SSLEngine engine) {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }
}
