package dev.capgate.sidecar.http;

import dev.capgate.sidecar.intercept.AgentConnection;
import dev.capgate.sidecar.intercept.HttpInterceptor;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Terminates an intercepted agent connection: TLS with the leaf for its SNI host (ALPN h2 or
 * http/1.1), or plaintext HTTP/1.1. HTTP/2 streams each get their own child channel and their own
 * {@link ExchangeHandler}, so a denied stream is answered on that stream alone.
 */
public final class HttpTermination implements HttpInterceptor {
  private static final Logger LOG = Logger.getLogger(HttpTermination.class.getName());
  private static final long TLS_HANDSHAKE_TIMEOUT_SECONDS = 10;

  private final HttpServices services;

  public HttpTermination(HttpServices services) {
    this.services = services;
  }

  @Override
  public void install(Channel agent, AgentConnection connection, SslContext agentTls) {
    long idle = services.agentIdleTimeout().toSeconds();
    agent.pipeline().addLast("idle", new IdleStateHandler(0, 0, idle, TimeUnit.SECONDS));
    agent.pipeline().addLast("close-when-idle", new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent) {
          ctx.close();
        } else {
          ctx.fireUserEventTriggered(event);
        }
      }
    });
    if (agentTls == null) {
      installHttp1(agent, connection);
      return;
    }
    SslHandler tls = agentTls.newHandler(agent.alloc());
    tls.setHandshakeTimeout(TLS_HANDSHAKE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    agent.pipeline().addLast("tls", tls);
    agent.pipeline().addLast("alpn", new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
      @Override
      protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
          installHttp2(ctx.channel(), connection);
        } else {
          installHttp1(ctx.channel(), connection);
        }
      }

      @Override
      protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        // Typically an agent that does not trust the pod CA: its problem to report, not ours.
        LOG.fine("TLS handshake with agent failed for " + connection.serverName() + ": " + cause.getMessage());
        ctx.close();
      }
    });
  }

  private void installHttp1(Channel agent, AgentConnection connection) {
    AgentHttp1Codec codec = new AgentHttp1Codec();
    agent.pipeline().addLast("http1", codec);
    agent.pipeline().addLast("exchanges", new ExchangeHandler(services, connection, codec));
  }

  private void installHttp2(Channel agent, AgentConnection connection) {
    agent.pipeline().addLast("h2", Http2FrameCodecBuilder.forServer()
        .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(128).maxHeaderListSize(32 * 1024))
        .validateHeaders(true)
        .build());
    agent.pipeline().addLast("h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
      @Override
      protected void initChannel(Http2StreamChannel stream) {
        stream.pipeline().addLast("capture", new H2RequestCapture());
        stream.pipeline().addLast("h2-to-http1", new Http2StreamFrameToHttpObjectCodec(true));
        stream.pipeline().addLast("exchange", new ExchangeHandler(services, connection, null));
      }
    }));
  }
}
