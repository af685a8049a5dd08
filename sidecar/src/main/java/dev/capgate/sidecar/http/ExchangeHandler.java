package dev.capgate.sidecar.http;

import dev.capgate.sidecar.upstream.H2Upstreams;
import dev.capgate.sidecar.upstream.IdleUpstreams;
import dev.capgate.sidecar.upstream.TcpRelay;
import dev.capgate.sidecar.upstream.UpstreamConnector;
import dev.capgate.sidecar.upstream.UpstreamLink;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The requests of one HTTP/1.1 agent connection (or of one HTTP/2 stream), one {@link Exchange} at
 * a time: every keep-alive request is normalized and checked on its own (invariant 5). Pipelined
 * requests wait here, with reads paused, until the exchange before them is done.
 */
final class ExchangeHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = Logger.getLogger(ExchangeHandler.class.getName());

  private final HttpServices services;
  private final AgentConnection connection;
  private final AgentHttp1Codec codec; // null on HTTP/2 streams
  private final ArrayDeque<HttpObject> queued = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private Exchange current;
  private final IdleUpstreams idleUpstreams; // the event loop's
  private final H2Upstreams h2Upstreams; // the agent connection's, for its gRPC calls
  private final UpstreamConnector upstreams;
  private final Admission admission;
  private final IdleClose idleClose; // of the agent connection: counts its exchanges in flight
  private boolean closing;
  private boolean draining;

  ExchangeHandler(
      HttpServices services,
      AgentConnection connection,
      AgentHttp1Codec codec,
      IdleUpstreams idleUpstreams,
      H2Upstreams h2Upstreams,
      UpstreamConnector upstreams,
      Admission admission,
      IdleClose idleClose) {
    this.services = services;
    this.idleClose = idleClose;
    this.admission = admission;
    this.upstreams = upstreams;
    this.connection = connection;
    this.codec = codec;
    this.idleUpstreams = idleUpstreams;
    this.h2Upstreams = h2Upstreams;
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
   * Reads from the agent only while the bytes have somewhere to go: no queued request waiting, and
   * the current exchange (if any) able to take body bytes (upstream connected and writable). A
   * pipelined request therefore costs at most one read's worth of memory.
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
            ReferenceCountUtil.release(
                object); // a new request before the body of the last one ended
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
    current = new Exchange(this, ctx, services, admission, connection, request);
    idleClose.exchangeStarted();
    current.start();
  }

  /** Opens new upstream links for this connection's exchanges. */
  UpstreamConnector upstreams() {
    return upstreams;
  }

  /** The HTTP/2 upstream connections the gRPC calls of this agent connection share. */
  H2Upstreams h2Upstreams() {
    return h2Upstreams;
  }

  /** Hands over a kept-alive upstream connection for the next request, if it serves that target. */
  UpstreamLink takeIdleUpstream(String host, int port, boolean tls) {
    return idleUpstreams.take(host, port, tls);
  }

  /** Called by the exchange once request and response are both complete (or abandoned). */
  void exchangeFinished(Exchange exchange, boolean keepAgentConnection, UpstreamLink reusable) {
    if (exchange != current) {
      return;
    }
    endCurrent();
    if (reusable != null) {
      idleUpstreams.put(reusable);
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

  /**
   * The current exchange was a WebSocket upgrade the upstream accepted (its 101 is written): this
   * connection stops being HTTP. The order matters: the splice handlers go in first, then the
   * upstream's HTTP handlers leave (frames the upstream sent behind its 101 flow on into the
   * splice), then the agent's (bytes the agent sent early, held by the paused decoder, flow on into
   * the splice, and its encoder is gone before the first frame is written).
   *
   * @param toAgent rewrites upstream-to-agent bytes (the credential scrubber), or null
   */
  void switchToSplice(UpstreamLink upstream, TcpRelay.Transform toAgent) {
    closing = true;
    releaseQueued();
    endCurrent(); // the splice is no exchange: one silent for the idle timeout is closed
    ChannelPipeline agentPipeline = ctx.pipeline();
    agentPipeline.remove(this);
    TcpRelay.splice(ctx.channel(), upstream.channel(), toAgent);
    upstream.stripHttp();
    if (codec != null && agentPipeline.context(codec) != null) {
      agentPipeline.remove(codec);
    }
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
      endCurrent();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(Level.FINE, "agent connection " + connection.id() + " failed: " + cause.getMessage());
    Http2Error error = http2() ? streamError(cause) : null;
    if (error != null) {
      // The stream broke the protocol: reset it with the code the spec requires before closing it
      // (closing alone would reset it with CANCEL).
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(error)).addListener(ChannelFutureListener.CLOSE);
      if (current != null) {
        current.onStreamError(error); // its audit line says why, not "agent closed"
      }
      return;
    }
    ctx.close();
  }

  /** The HTTP/2 error code of a protocol error on this stream, or null for any other failure. */
  private static Http2Error streamError(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof Http2Exception e) {
        return e.error();
      }
    }
    return null;
  }

  /**
   * The current exchange is over for this connection (once: later calls find none), and no longer
   * keeps the connection from being idle.
   */
  private void endCurrent() {
    if (current != null) {
      current = null;
      idleClose.exchangeEnded();
    }
  }

  private void releaseQueued() {
    HttpObject o;
    while ((o = queued.poll()) != null) {
      ReferenceCountUtil.release(o);
    }
  }
}
