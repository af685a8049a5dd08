package dev.capgate.sidecar.upstream;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.util.concurrent.Future;
import java.util.HashMap;
import java.util.Map;

/**
 * The HTTP/2 upstream connections of ONE agent connection, one per upstream (host and port), each
 * carrying the gRPC calls (streams) of that agent connection to it at once. Why this scope: the
 * agent multiplexes its calls on one connection, and the sidecar does the same on its side; what
 * one agent connection's calls opened serves only it and goes when it goes (a gRPC channel is
 * long-lived, unlike the HTTP/1.1 connections {@link IdleUpstreams} keeps per event loop).
 * Credentials are per request (a header of each stream), so streams of different rules can share a
 * connection as they share the agent's. Only the agent connection's event loop touches it: no
 * locking.
 *
 * <p>The map holds the dial's future, so calls that start while the first one is still connecting
 * wait for that connection rather than dialing their own.
 */
public final class H2Upstreams {
  private final Map<String, Future<Channel>> connections = new HashMap<>();

  /** Every connection still open, the ones no new call goes to included (closed with the agent). */
  private final java.util.Set<Channel> open = new java.util.HashSet<>();

  private boolean closed;

  /** The connection (or the dial on its way) to {@code host:port}, or null for none usable. */
  Future<Channel> get(String host, int port) {
    String key = host + ":" + port;
    Future<Channel> f = connections.get(key);
    if (f == null) {
      return null;
    }
    if (!f.isDone()) {
      return f;
    }
    Channel ch = f.isSuccess() ? f.getNow() : null;
    if (ch != null && ch.isActive() && !goingAway(ch)) {
      return f;
    }
    // Gone, going away (GOAWAY) or full (the upstream's stream limit): new calls go to a new
    // connection; the calls in flight on this one end on their own.
    connections.remove(key);
    return null;
  }

  /** Remembers the dial to {@code host:port}; false when the agent connection is gone already. */
  boolean put(String host, int port, Future<Channel> dial) {
    if (closed) {
      return false;
    }
    connections.put(host + ":" + port, dial);
    dial.addListener(
        f -> {
          if (f.isSuccess()) {
            Channel ch = (Channel) f.getNow();
            if (closed) {
              ch.close();
              return;
            }
            open.add(ch);
            ch.closeFuture().addListener(c -> open.remove(ch));
          }
        });
    return true;
  }

  private static boolean goingAway(Channel ch) {
    Http2FrameCodec codec = ch.pipeline().get(Http2FrameCodec.class);
    return codec == null
        || codec.connection().goAwayReceived()
        || codec.connection().goAwaySent()
        || !codec.connection().local().canOpenStream();
  }

  /** The agent connection is gone: so are its upstream connections (their streams are reset). */
  public void closeAll() {
    closed = true; // dials still on their way close when they complete (put's listener)
    for (Channel ch : java.util.List.copyOf(open)) {
      ch.close();
    }
    open.clear();
    connections.clear();
  }
}
