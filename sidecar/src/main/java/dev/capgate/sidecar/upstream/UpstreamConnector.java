package dev.capgate.sidecar.upstream;

import dev.capgate.sidecar.tls.UpstreamTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLHandshakeException;

/**
 * Opens a new HTTP/1.1 {@link UpstreamLink} for an approved request: the dial ({@link
 * UpstreamDialer}: the sidecar's own resolution, or the corporate proxy's tunnel), the sidecar's
 * own TLS to the upstream ({@link UpstreamTls}, verified against the upstream trust bundles), a
 * silence timeout and the HTTP client codec. The link is handed over once it can carry the request
 * (TLS handshake done), on the event loop it was asked for.
 */
public final class UpstreamConnector {
  private final UpstreamDialer dialer;
  private final UpstreamTls upstreamTls;
  private final long silenceSeconds;

  /** The sidecar's TLS handshake with the upstream failed (the cause says why). */
  public static final class HandshakeFailure extends Exception {
    HandshakeFailure(Throwable cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }

  /**
   * @param silence how long an upstream connection may be neither read nor written: a long upload
   *     or a slow but streaming answer keeps it alive, silence does not
   */
  public UpstreamConnector(UpstreamDialer dialer, UpstreamTls upstreamTls, Duration silence) {
    this.dialer = dialer;
    this.upstreamTls = upstreamTls;
    this.silenceSeconds = silence.toSeconds();
  }

  /**
   * A ready HTTP/2 stream to {@code host:port} over TLS, for one gRPC call: on the agent
   * connection's shared upstream connection to that target when there is one ({@code pool}), else
   * on a new one (TLS offering only {@code h2}). The stream speaks HTTP/1 objects to the exchange
   * ({@link Http2StreamFrameToHttpObjectCodec}), trailers as the last content's trailing headers,
   * so the exchange forwards a call as it forwards any request. Failures as {@link #connect}; an
   * upstream that does not agree to h2 is a {@link HandshakeFailure} (gRPC needs HTTP/2).
   */
  public Future<UpstreamLink> connectStream(
      EventLoop loop, String host, int port, H2Upstreams pool) {
    Promise<UpstreamLink> ready = loop.newPromise();
    Future<Channel> connection = pool.get(host, port);
    if (connection == null) {
      connection = dialH2(loop, host, port);
      if (!pool.put(host, port, connection)) {
        ready.tryFailure(new IllegalStateException("the agent connection closed"));
        return ready;
      }
    }
    connection.addListener(
        f -> {
          if (!f.isSuccess()) {
            ready.tryFailure(f.cause());
            return;
          }
          UpstreamLink link = new UpstreamLink(host, port, true, true);
          new Http2StreamChannelBootstrap((Channel) f.getNow())
              .handler(
                  new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                      stream
                          .pipeline()
                          .addLast(UpstreamLink.HTTP, new Http2StreamFrameToHttpObjectCodec(false));
                      stream.pipeline().addLast(UpstreamLink.TIMEOUT, silenceTimeout());
                      stream.pipeline().addLast(UpstreamLink.LINK, link);
                    }
                  })
              .open()
              .addListener(
                  o -> {
                    if (!o.isSuccess()) {
                      ready.tryFailure(o.cause());
                    } else if (!ready.trySuccess(link)) {
                      link.close();
                    }
                  });
        });
    return ready;
  }

  /** A new HTTP/2 connection: TLS with ALPN h2 only, the HTTP/2 client codec, no pushed streams. */
  private Future<Channel> dialH2(EventLoop loop, String host, int port) {
    Promise<Channel> ready = loop.newPromise();
    Future<Channel> dial =
        dialer.dialHost(
            loop,
            host,
            port,
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline()
                    .addLast(UpstreamLink.TLS, upstreamTls.newH2Handler(ch.alloc(), host, port));
                ch.pipeline()
                    .addLast(
                        Http2FrameCodecBuilder.forClient()
                            .initialSettings(Http2Settings.defaultSettings().pushEnabled(false))
                            .validateHeaders(true)
                            .build());
                ch.pipeline()
                    .addLast(
                        new Http2MultiplexHandler(
                            new ChannelInboundHandlerAdapter() {
                              @Override
                              public void channelRegistered(ChannelHandlerContext ctx) {
                                ctx.close(); // a stream the upstream opened (push is off)
                              }
                            }));
              }
            });
    handOver(dial, ready, ch -> ch, UpstreamConnector::unlessH2);
    return ready;
  }

  /** gRPC needs HTTP/2: any protocol but h2 (or none) is refused. */
  private static String unlessH2(String protocol) {
    return ApplicationProtocolNames.HTTP_2.equals(protocol)
        ? null
        : "the upstream did not agree to HTTP/2 (ALPN h2), which gRPC needs";
  }

  /**
   * Settles {@code ready} with {@code value} of the dialled channel once it can carry a request: at
   * once without TLS, else when the TLS handshake is done. A failed dial fails it with the dial's
   * cause; a failed handshake, or a negotiated protocol that {@code alpnRefusal} refuses, with a
   * {@link HandshakeFailure}, the channel closed. A promise already settled (the agent went) closes
   * the channel too.
   *
   * @param alpnRefusal given the protocol ALPN settled on (null: none), why it will not do, or null
   *     when it will
   */
  private static <T> void handOver(
      Future<Channel> dial,
      Promise<T> ready,
      Function<Channel, T> value,
      UnaryOperator<String> alpnRefusal) {
    dial.addListener(
        f -> {
          if (!f.isSuccess()) {
            ready.tryFailure(f.cause());
            return;
          }
          Channel ch = (Channel) f.getNow();
          SslHandler tls = ch.pipeline().get(SslHandler.class);
          if (tls == null) {
            if (!ready.trySuccess(value.apply(ch))) {
              ch.close();
            }
            return;
          }
          ch.config().setAutoRead(true); // the handshake (and HTTP/2's frames) need reads
          tls.handshakeFuture()
              .addListener(
                  h -> {
                    String refused =
                        h.isSuccess() ? alpnRefusal.apply(tls.applicationProtocol()) : null;
                    if (h.isSuccess() && refused == null) {
                      if (!ready.trySuccess(value.apply(ch))) {
                        ch.close();
                      }
                      return;
                    }
                    ch.close();
                    ready.tryFailure(
                        new HandshakeFailure(
                            h.isSuccess() ? new SSLHandshakeException(refused) : h.cause()));
                  });
        });
  }

  private IdleStateHandler silenceTimeout() {
    return new IdleStateHandler(0, 0, silenceSeconds, TimeUnit.SECONDS) {
      @Override
      protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
        // 504 before the response, a cut after (the exchange tells them apart).
        ctx.fireExceptionCaught(ReadTimeoutException.INSTANCE);
      }
    };
  }

  /**
   * A ready link to {@code host:port}, or a failure: {@link UpstreamDialer.DialFailure} (cannot be
   * reached; its message is safe to show), {@link HandshakeFailure}, or whatever else broke.
   */
  public Future<UpstreamLink> connect(EventLoop loop, String host, int port, boolean tls) {
    Promise<UpstreamLink> ready = loop.newPromise();
    UpstreamLink link = new UpstreamLink(host, port, tls);
    Future<Channel> dial =
        dialer.dialHost(
            loop,
            host,
            port,
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                if (tls) {
                  ch.pipeline()
                      .addLast(UpstreamLink.TLS, upstreamTls.newHandler(ch.alloc(), host, port));
                }
                ch.pipeline().addLast(UpstreamLink.TIMEOUT, silenceTimeout());
                ch.pipeline()
                    .addLast(
                        UpstreamLink.HTTP,
                        new HttpClientCodec(
                            new HttpDecoderConfig().setMaxChunkSize(64 * 1024),
                            HttpClientCodec.DEFAULT_PARSE_HTTP_AFTER_CONNECT_REQUEST,
                            HttpClientCodec.DEFAULT_FAIL_ON_MISSING_RESPONSE));
                ch.pipeline().addLast(UpstreamLink.LINK, link);
              }
            });
    // HTTP/1.1 over whatever ALPN settled on (the client offers nothing else).
    handOver(dial, ready, ch -> link, protocol -> null);
    return ready;
  }
}
