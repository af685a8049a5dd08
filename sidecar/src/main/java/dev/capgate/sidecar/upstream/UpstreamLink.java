package dev.capgate.sidecar.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One HTTP/1.1 connection from the sidecar to an upstream, serving one exchange at a time and
 * reused by a later request of the pod when the upstream keeps it alive ({@link IdleUpstreams}); or
 * one HTTP/2 stream on a shared upstream connection, for one gRPC call ({@link H2Upstreams}).
 * Opened by {@link UpstreamConnector}; what the upstream sends goes to the attached {@link
 * Listener} (the exchange it serves), and an upstream that speaks while nobody listens is closed.
 */
public final class UpstreamLink extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = Logger.getLogger(UpstreamLink.class.getName());

  /** The exchange a link serves: what the upstream sends, and when it goes away. */
  public interface Listener {
    /** A response head, body chunk or last chunk (the listener owns {@code msg}). */
    void onUpstreamMessage(Object msg);

    /** The upstream delivered what it had for now. */
    void onUpstreamReadComplete();

    void onUpstreamWritabilityChanged(boolean writable);

    /** The connection ended ({@code cause} null) or failed. */
    void onUpstreamClosed(Throwable cause);
  }

  /** Names of the handlers {@link UpstreamConnector} installs, removed when the link is spliced. */
  static final String TLS = "tls";

  static final String TIMEOUT = "timeout";
  static final String HTTP = "http";
  static final String LINK = "link";

  private final String host;
  private final int port;
  private final boolean tls;

  /** One HTTP/2 stream of a shared upstream connection (a gRPC call): never kept for reuse. */
  private final boolean stream;

  private Channel channel;
  private Listener exchange;

  /** When it last went idle ({@link System#nanoTime}), for {@link IdleUpstreams}. */
  private long idleSince;

  UpstreamLink(String host, int port, boolean tls) {
    this(host, port, tls, false);
  }

  UpstreamLink(String host, int port, boolean tls, boolean stream) {
    this.host = host;
    this.port = port;
    this.tls = tls;
    this.stream = stream;
  }

  /** An HTTP/2 stream (ends with its exchange), not a connection of its own. */
  public boolean stream() {
    return stream;
  }

  public Channel channel() {
    return channel;
  }

  /**
   * Ends the HTTP use of this connection (a WebSocket upgrade the upstream accepted): its HTTP
   * handlers leave the pipeline, bytes already decoded flow on to whatever handler follows (the
   * splice, installed before this call), and the plain channel is left.
   */
  public void stripHttp() {
    exchange = null;
    for (String name : new String[] {LINK, TIMEOUT, HTTP}) {
      if (channel.pipeline().get(name) != null) {
        channel.pipeline().remove(name);
      }
    }
  }

  boolean serves(String host, int port, boolean tls) {
    return channel != null
        && channel.isActive()
        && this.host.equals(host)
        && this.port == port
        && this.tls == tls;
  }

  void idleSince(long nanoTime) {
    idleSince = nanoTime;
  }

  long idleSince() {
    return idleSince;
  }

  public void attach(Listener exchange) {
    this.exchange = exchange;
  }

  public void detach() {
    this.exchange = null;
  }

  public void close() {
    exchange = null;
    if (channel != null) {
      channel.close();
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.channel = ctx.channel();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (exchange == null) {
      // Nobody asked: an idle upstream that speaks out of turn is not to be trusted with the next
      // request.
      ReferenceCountUtil.release(msg);
      ctx.close();
      return;
    }
    exchange.onUpstreamMessage(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (exchange != null) {
      exchange.onUpstreamReadComplete();
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (exchange != null) {
      exchange.onUpstreamWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Listener e = exchange;
    exchange = null;
    if (e != null) {
      e.onUpstreamClosed(null);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(Level.FINE, "upstream " + host + ":" + port + " failed: " + cause.getMessage());
    Listener e = exchange;
    exchange = null;
    if (e != null) {
      e.onUpstreamClosed(cause);
    }
    ctx.close();
  }
}
