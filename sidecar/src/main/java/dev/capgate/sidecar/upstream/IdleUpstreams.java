package dev.capgate.sidecar.upstream;

import java.util.ArrayDeque;

/**
 * The kept-alive upstream connections of ONE agent connection, for its next requests: the next
 * keep-alive request on HTTP/1.1, the next streams on HTTP/2. Each HTTP/2 stream is an exchange of
 * its own; without a pool per agent connection every stream dialed and TLS-handshook a new upstream
 * connection (about 250 requests/s where HTTP/1.1 keep-alive did thousands). Never shared between
 * agent connections, so what one connection's requests opened serves only that connection, as with
 * HTTP/1.1 keep-alive. Only the agent connection's event loop touches it (HTTP/2 stream channels
 * run on their parent's loop, and the upstream channels are dialed on it): no locking.
 */
public final class IdleUpstreams {
  /** Idle upstream connections kept per HTTP/2 agent connection (streams beyond that dial anew). */
  public static final int HTTP2_CAPACITY = 16;

  private final int capacity;
  private final ArrayDeque<UpstreamLink> idle = new ArrayDeque<>();
  private boolean closed;

  /** The HTTP/2 upstream connections the gRPC calls of this agent connection share. */
  private final H2Upstreams h2 = new H2Upstreams();

  public IdleUpstreams(int capacity) {
    this.capacity = capacity;
  }

  /**
   * A kept-alive link to that target (most recently used first), or null. Links that went away or
   * serve another target are closed on the way.
   */
  public UpstreamLink take(String host, int port, boolean tls) {
    UpstreamLink link;
    while ((link = idle.pollFirst()) != null) {
      if (link.serves(host, port, tls)) {
        return link;
      }
      link.close();
    }
    return null;
  }

  /** Keeps {@code link} for a later request; the least recently used beyond capacity is closed. */
  public void put(UpstreamLink link) {
    link.detach();
    if (closed || link.stream()) {
      link.close();
      return;
    }
    idle.addFirst(link);
    while (idle.size() > capacity) {
      idle.pollLast().close();
    }
  }

  /** The HTTP/2 upstream connections of this agent connection (gRPC calls). */
  public H2Upstreams h2() {
    return h2;
  }

  /** The agent connection is gone: so are its upstream connections. */
  public void closeAll() {
    closed = true;
    h2.closeAll();
    UpstreamLink link;
    while ((link = idle.poll()) != null) {
      link.close();
    }
  }
}
