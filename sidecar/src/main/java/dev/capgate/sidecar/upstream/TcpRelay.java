package dev.capgate.sidecar.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * Splices bytes between two channels (TLS passthrough, raw TCP, an upgraded WebSocket connection).
 * Back-pressure both ways: a side stops reading while the other cannot take more (writability), and
 * reads again once it drained. When either side closes, the other is flushed and closed. Unchanged
 * bytes, except one way through an optional {@link Transform} (the WebSocket splice masks an
 * injected credential echoed by the upstream).
 */
public final class TcpRelay extends ChannelInboundHandlerAdapter {
  /** Rewrites the bytes of one direction, chunk by chunk; may hold some back until {@link #end}. */
  public interface Transform {
    /** Takes ownership of {@code in}; returns what to send now (possibly empty). */
    ByteBuf apply(ByteBuf in);

    /** What was held back, sent before the close. */
    ByteBuf end();
  }

  private final Channel peer;
  private final Transform transform;

  private TcpRelay(Channel peer, Transform transform) {
    this.peer = peer;
    this.transform = transform;
  }

  /** Wires {@code a} and {@code b} together and starts reading on both. */
  public static void splice(Channel a, Channel b) {
    splice(a, b, null);
  }

  /**
   * As {@link #splice(Channel, Channel)}, with the bytes from {@code b} to {@code a} passing
   * through {@code bToA} (null: unchanged).
   */
  public static void splice(Channel a, Channel b, Transform bToA) {
    a.pipeline().addLast("relay", new TcpRelay(b, null));
    b.pipeline().addLast("relay", new TcpRelay(a, bToA));
    a.config().setAutoRead(true);
    b.config().setAutoRead(true);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf bytes)) {
      ReferenceCountUtil.release(
          msg); // e.g. the empty end of an HTTP message a removed decoder still delivers
      return;
    }
    peer.write(transform == null ? bytes : transform.apply(bytes), peer.voidPromise());
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
    if (transform != null && peer.isActive()) {
      ByteBuf rest = transform.end();
      if (rest.isReadable()) {
        peer.write(rest, peer.voidPromise());
      } else {
        rest.release();
      }
    }
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
