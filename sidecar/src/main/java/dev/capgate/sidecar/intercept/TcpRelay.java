package dev.capgate.sidecar.intercept;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Splices bytes between two channels unchanged (TLS passthrough, raw TCP). Back-pressure both ways:
 * a side stops reading while the other cannot take more (writability), and reads again once it
 * drained. When either side closes, the other is flushed and closed.
 */
public final class TcpRelay extends ChannelInboundHandlerAdapter {
  private final Channel peer;

  private TcpRelay(Channel peer) {
    this.peer = peer;
  }

  /** Wires {@code a} and {@code b} together and starts reading on both. */
  public static void splice(Channel a, Channel b) {
    a.pipeline().addLast("relay", new TcpRelay(b));
    b.pipeline().addLast("relay", new TcpRelay(a));
    a.config().setAutoRead(true);
    b.config().setAutoRead(true);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    peer.write(msg, peer.voidPromise());
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    peer.flush();
    if (!peer.isWritable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    // Our channel drained (or filled): the peer may read again (or must pause).
    peer.config().setAutoRead(ctx.channel().isWritable());
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closeOnFlush(peer);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  static void closeOnFlush(Channel channel) {
    if (channel.isActive()) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
