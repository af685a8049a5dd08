package dev.capgate.sidecar.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One HTTP/1.1 connection from the sidecar to an upstream, serving one exchange at a time and
 * reused by the next request of the same agent connection when both sides keep it alive.
 */
final class UpstreamLink extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = Logger.getLogger(UpstreamLink.class.getName());

  final String host;
  final int port;
  final boolean tls;
  private Channel channel;
  private Exchange exchange;

  UpstreamLink(String host, int port, boolean tls) {
    this.host = host;
    this.port = port;
    this.tls = tls;
  }

  Channel channel() {
    return channel;
  }

  boolean serves(String host, int port, boolean tls) {
    return channel != null
        && channel.isActive()
        && this.host.equals(host)
        && this.port == port
        && this.tls == tls;
  }

  void attach(Exchange exchange) {
    this.exchange = exchange;
  }

  void detach() {
    this.exchange = null;
  }

  void close() {
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
      exchange.flushAgent();
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
    Exchange e = exchange;
    exchange = null;
    if (e != null) {
      e.onUpstreamClosed(null);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(Level.FINE, "upstream " + host + ":" + port + " failed: " + cause.getMessage());
    Exchange e = exchange;
    exchange = null;
    if (e != null) {
      e.onUpstreamClosed(cause);
    }
    ctx.close();
  }
}
