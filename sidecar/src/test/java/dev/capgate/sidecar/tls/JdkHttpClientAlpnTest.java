package dev.capgate.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.OpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JDK's own {@code HttpClient} asking for HTTP/2 gets HTTP/2 from the agent side's leaf context
 * on BoringSSL, over TLS 1.3 and TLS 1.2, on every one of many fresh clients (each a new connection
 * and a full handshake): the case that kept the agent side on the JDK engine (a run of {@code
 * DataPlaneIT} where such a client came out on HTTP/1.1, never seen again; sidecar/README.md "TLS
 * engine"). A real socket and a real Netty server with the sidecar's context, h2 or http/1.1 by
 * ALPN as in {@code HttpTermination}.
 */
class JdkHttpClientAlpnTest {
  private static final int CLIENTS = 20;

  @AfterEach
  void clear() {
    System.clearProperty("capgate.tls.agent-engine");
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void the_jdk_http_client_gets_h2_from_the_agent_side_on_boringssl(String version)
      throws Exception {
    // BoringSSL is the default; other classes in this JVM ask for the JDK engine.
    System.setProperty("capgate.tls.agent-engine", "openssl");
    SslContext server = AgentTlsContextsTest.contexts().forHost("localhost").get();
    assertThat(server).isInstanceOf(OpenSslContext.class);
    List<String> negotiated = new CopyOnWriteArrayList<>();
    var group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      Channel listener =
          new ServerBootstrap()
              .group(group)
              .channel(NioServerSocketChannel.class)
              .childHandler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ch.pipeline().addLast(server.newHandler(ch.alloc()));
                      ch.pipeline().addLast(new ByAlpn(negotiated));
                    }
                  })
              .bind("127.0.0.1", 0)
              .sync()
              .channel();
      int port = ((InetSocketAddress) listener.localAddress()).getPort();
      List<String> answers = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        try (HttpClient client =
            HttpClient.newBuilder()
                .sslContext(trustingThePodCa())
                .sslParameters(new SSLParameters(null, new String[] {version}))
                .version(HttpClient.Version.HTTP_2)
                .build()) {
          for (int j = 0; j < 2; j++) {
            HttpResponse<String> r =
                client.send(
                    HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/" + i))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
            answers.add(r.version() + " " + r.statusCode());
          }
        }
      }
      assertThat(negotiated).hasSize(CLIENTS).containsOnly("h2 " + version);
      assertThat(answers).hasSize(2 * CLIENTS).containsOnly("HTTP_2 200");
      listener.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }

  private static SSLContext trustingThePodCa() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("pod-ca", LeafMinterTest.testCa().certificate());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    return tls;
  }

  /** Records "protocol version" per connection and answers 200 on h2 or HTTP/1.1. */
  private static final class ByAlpn extends ApplicationProtocolNegotiationHandler {
    private final List<String> negotiated;

    ByAlpn(List<String> negotiated) {
      super("none");
      this.negotiated = negotiated;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
      String tls = ctx.pipeline().get(SslHandler.class).engine().getSession().getProtocol();
      negotiated.add(protocol + " " + tls);
      if (protocol.equals(ApplicationProtocolNames.HTTP_2)) {
        ctx.pipeline().addLast(Http2FrameCodecBuilder.forServer().build());
        ctx.pipeline()
            .addLast(
                new Http2MultiplexHandler(
                    new ChannelInitializer<Http2StreamChannel>() {
                      @Override
                      protected void initChannel(Http2StreamChannel stream) {
                        stream.pipeline().addLast(new H2Ok());
                      }
                    }));
      } else {
        ctx.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16));
        ctx.pipeline().addLast(new H1Ok());
      }
    }
  }

  private static final class H2Ok extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2HeadersFrame headers && headers.isEndStream()) {
        ctx.writeAndFlush(
            new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), true));
      }
      ReferenceCountUtil.release(msg);
    }
  }

  private static final class H1Ok extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      response.headers().set("content-length", 0);
      ctx.writeAndFlush(response);
    }
  }
}
