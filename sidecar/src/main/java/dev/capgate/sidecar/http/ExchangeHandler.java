package dev.capgate.sidecar.http;

import dev.capgate.sidecar.intercept.AgentConnection;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The requests of one HTTP/1.1 agent connection (or of one HTTP/2 stream), one {@link Exchange}
 * at a time: every keep-alive request is normalized and checked on its own (invariant 5).
 * Pipelined requests wait here, with reads paused, until the exchange before them is done.
 */
final class ExchangeHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = Logger.getLogger(ExchangeHandler.class.getName());

  private final HttpServices services;
  private final AgentConnection connection;
  private final AgentHttp1Codec codec; // null on HTTP/2 streams
  private final ArrayDeque<HttpObject> queued = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private Exchange current;
  private UpstreamLink idleUpstream;
  private boolean closing;
  private boolean draining;

  ExchangeHandler(HttpServices services, AgentConnection connection, AgentHttp1Codec codec) {
    this.services = services;
    this.connection = connection;
    this.codec = codec;
  }

  boolean http2() {
    return codec == null;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HttpObject object) || closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    queued.add(object);
    drain();
    updateReads();
  }

  /**
   * Reads from the agent only while the bytes have somewhere to go: no queued request waiting,
   * and the current exchange (if any) able to take body bytes (upstream connected and writable).
   * A pipelined request therefore costs at most one read's worth of memory.
   */
  void updateReads() {
    if (closing) {
      return;
    }
    boolean read = queued.isEmpty() && (current == null || current.readyForBody());
    ctx.channel().config().setAutoRead(read);
  }

  /** Feeds queued objects to the current exchange, or starts the next one, as far as possible. */
  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (!queued.isEmpty() && !closing) {
        if (current == null) {
          begin(queued.poll());
        } else if (!current.requestComplete()) {
          HttpObject object = queued.poll();
          if (object instanceof HttpContent content && !(object instanceof HttpRequest)) {
            current.onRequestContent(content);
          } else {
            ReferenceCountUtil.release(object); // a new request before the body of the last one ended
            ctx.close();
            return;
          }
        } else {
          return; // the response of the current exchange is still on its way
        }
      }
    } finally {
      draining = false;
    }
  }

  private void begin(HttpObject object) {
    if (!(object instanceof HttpRequest request)) {
      ReferenceCountUtil.release(object); // the tail of a request we already answered and dropped
      return;
    }
    if (codec != null) {
      codec.currentRequestIsHead("HEAD".equals(request.method().name()));
    }
    current = new Exchange(this, ctx, services, connection, request);
    current.start();
  }

  /** Hands over a kept-alive upstream connection for the next request, if it serves that target. */
  UpstreamLink takeIdleUpstream(String host, int port, boolean tls) {
    UpstreamLink link = idleUpstream;
    idleUpstream = null;
    if (link != null && link.serves(host, port, tls)) {
      return link;
    }
    if (link != null) {
      link.close();
    }
    return null;
  }

  /** Called by the exchange once request and response are both complete (or abandoned). */
  void exchangeFinished(Exchange exchange, boolean keepAgentConnection, UpstreamLink reusable) {
    if (exchange != current) {
      return;
    }
    current = null;
    if (reusable != null) {
      reusable.detach();
      if (idleUpstream != null) {
        idleUpstream.close();
      }
      idleUpstream = reusable;
    }
    if (!keepAgentConnection || http2()) {
      // HTTP/2: one exchange per stream; the stream ends with the response (or is reset here).
      closing = !http2() || !keepAgentConnection;
      if (closing) {
        releaseQueued();
        exchange.lastWrite().addListener(ChannelFutureListener.CLOSE);
      }
      return;
    }
    drain();
    updateReads();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (current != null) {
      current.flushUpstream();
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (current != null) {
      current.onAgentWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    releaseQueued();
    if (current != null) {
      current.onAgentClosed();
      current = null;
    }
    if (idleUpstream != null) {
      idleUpstream.close();
      idleUpstream = null;
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(Level.FINE, "agent connection " + connection.id() + " failed: " + cause.getMessage());
    ctx.close();
  }

  private void releaseQueued() {
    HttpObject o;
    while ((o = queued.poll()) != null) {
      ReferenceCountUtil.release(o);
    }
  }
}
