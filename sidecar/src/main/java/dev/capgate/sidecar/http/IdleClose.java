package dev.capgate.sidecar.http;

import dev.capgate.sidecar.footprint.ExchangeActivity;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes an agent connection that has been idle for {@code --idle-timeout}: no I/O and no exchange
 * in flight (HTTP/1.1: between requests; HTTP/2: no stream with a request open). An exchange in
 * flight is not idle, however quiet the connection: a request held for a person, an upstream slow
 * to answer, an HTTP/2 stream waiting while its connection sees no frames. Each of those is bounded
 * by its own timeout (the approval's, the upstream silence timeout), not by this one. Once the last
 * exchange ends, its response was the connection's last I/O, so the idle period counts from there.
 *
 * <p>The count is touched only on the connection's event loop, which its HTTP/2 stream channels
 * share: no locks. Each change is also counted sidecar-wide ({@link ExchangeActivity}), which tells
 * {@code IdleHeapRelease} when no exchange is in flight anywhere.
 */
final class IdleClose extends IdleStateHandler {
  private final ExchangeActivity activity;
  private int inFlight;

  IdleClose(Duration idle, ExchangeActivity activity) {
    super(0, 0, idle.toMillis(), TimeUnit.MILLISECONDS);
    this.activity = activity;
  }

  /** An exchange began on this connection (or on one of its HTTP/2 streams). */
  void exchangeStarted() {
    inFlight++;
    activity.started();
  }

  /** That exchange ended (answered, switched to a splice, or cut). */
  void exchangeEnded() {
    inFlight--;
    activity.ended();
  }

  /** Exchanges in flight now (tests). */
  int inFlight() {
    return inFlight;
  }

  @Override
  protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
    // With an exchange in flight nothing happens: the handler looks again one idle period after
    // the connection's last I/O, which is the end of the last exchange's response by then.
    if (inFlight == 0) {
      // From the tail, through TLS and HTTP/2 (this handler sits below both): the agent gets a
      // GOAWAY and a close_notify, and knows the close was on purpose, not a broken connection.
      ctx.channel().close();
    }
  }
}
