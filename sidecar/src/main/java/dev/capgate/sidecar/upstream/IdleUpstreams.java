package dev.capgate.sidecar.upstream;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * Kept-alive HTTP/1.1 upstream connections for later requests of the same pod, one pool per event
 * loop, shared by the agent connections on it: the next keep-alive request, the next HTTP/2 stream
 * (each stream is an exchange of its own; without a pool every stream dialed anew: about 250
 * requests/s where keep-alive did thousands), and the next agent connection (an agent that opens a
 * connection per request, as a shell loop of curl does, reuses what the previous one left instead
 * of dialling and TLS-handshaking the upstream again). A sidecar serves one pod and one session,
 * and a connection carries no credential of its own (each request carries its injected headers), so
 * sharing across the pod's agent connections gives no request anything another could not have. Only
 * the pool's event loop touches it (agent connections and the upstream channels they dial run on
 * it; HTTP/2 stream channels on their parent's): no locking. gRPC calls have their own connections
 * ({@link H2Upstreams}, per agent connection).
 */
public final class IdleUpstreams {
  /** Idle upstream connections kept per event loop. */
  public static final int CAPACITY = 32;

  /**
   * How long a connection may sit idle and still be taken. Servers close idle keep-alive
   * connections after their own timeout (Node.js: 5 s), and a request sent as that close is on its
   * way fails; below the shortest common timeout, that race is rare.
   */
  static final long MAX_IDLE_NANOS = TimeUnit.SECONDS.toNanos(4);

  private final int capacity;
  private final ArrayDeque<UpstreamLink> idle = new ArrayDeque<>();

  public IdleUpstreams(int capacity) {
    this.capacity = capacity;
  }

  /**
   * A kept-alive link to that target (most recently used first), or null. Links that went away or
   * sat idle too long are closed on the way; links to other targets stay.
   */
  public UpstreamLink take(String host, int port, boolean tls) {
    closeStale();
    for (Iterator<UpstreamLink> it = idle.iterator(); it.hasNext(); ) {
      UpstreamLink link = it.next();
      if (link.serves(host, port, tls)) {
        it.remove();
        return link;
      }
    }
    return null;
  }

  /**
   * Keeps {@code link} for a later request; the least recently used beyond capacity, and any idle
   * too long, are closed.
   */
  public void put(UpstreamLink link) {
    link.detach();
    if (link.stream() || link.channel() == null || !link.channel().isActive()) {
      link.close();
      return;
    }
    long now = System.nanoTime();
    link.idleSince(now);
    idle.addFirst(link);
    while (idle.size() > capacity || stale(idle.peekLast(), now)) {
      idle.pollLast().close();
    }
  }

  /**
   * Closes the links that sat idle too long or that the upstream closed: before every take, and
   * every second on the pool's event loop, so an idle connection is not held open until the silence
   * timeout.
   */
  public void closeStale() {
    long now = System.nanoTime();
    for (Iterator<UpstreamLink> it = idle.iterator(); it.hasNext(); ) {
      UpstreamLink link = it.next();
      if (stale(link, now)) {
        it.remove();
        link.close();
      }
    }
  }

  private static boolean stale(UpstreamLink link, long now) {
    return now - link.idleSince() > MAX_IDLE_NANOS || !link.channel().isActive();
  }

  /** How many idle links the pool holds (tests). */
  int size() {
    return idle.size();
  }
}
