package dev.capgate.sidecar.http;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AttributeKey;

/**
 * The requests an agent connection holds for a person's approval. While one is held, and for an
 * idle period after it ends, the connection is waiting for a person, not idle: the idle timeout (10
 * minutes by default) must not cut a hold its rule allows to last up to an hour, nor the approved
 * request going upstream after it (an HTTP/2 connection saw no I/O while its stream waited).
 * Counted on the connection's channel, touched only on its event loop, which its streams share.
 */
final class HeldRequests {
  private static final AttributeKey<HeldRequests> KEY =
      AttributeKey.valueOf("capgate.held-requests");

  private int held;
  private long lastReleaseNanos;

  private HeldRequests() {}

  static void hold(Channel channel) {
    Channel connection = connection(channel);
    HeldRequests state = connection.attr(KEY).get();
    if (state == null) {
      state = new HeldRequests();
      connection.attr(KEY).set(state);
    }
    state.held++;
  }

  static void release(Channel channel) {
    HeldRequests state = connection(channel).attr(KEY).get();
    if (state != null && state.held > 0) {
      state.held--;
      state.lastReleaseNanos = System.nanoTime();
    }
  }

  /** Whether a request is held on the connection now, or one was released within {@code idle}. */
  static boolean heldWithin(Channel channel, long idleNanos) {
    HeldRequests state = connection(channel).attr(KEY).get();
    return state != null
        && (state.held > 0 || System.nanoTime() - state.lastReleaseNanos < idleNanos);
  }

  /** A stream's connection; a connection's own parent is the listening socket, not wanted. */
  private static Channel connection(Channel channel) {
    return channel instanceof Http2StreamChannel ? channel.parent() : channel;
  }
}
