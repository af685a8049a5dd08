package dev.capgate.sidecar.admin;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Who may read what on the admin port. The port is open to the whole cluster (the kubelet probes it
 * from the node), but the metrics name the session's rules and credentials and count what the agent
 * did: callers from outside the pod get health status codes only, nothing else, unless {@code
 * --admin-expose-metrics} says Prometheus may scrape.
 */
public final class AdminAccess {
  /** What a caller gets for a path. */
  public enum Answer {
    /** The full answer (bodies with reasons, metrics). */
    FULL,
    /** The status code alone, with an empty body: a remote health probe. */
    STATUS_ONLY,
    /** 404 with an empty body: nothing for this caller here. */
    NOT_FOUND
  }

  private final boolean exposeMetrics;

  public AdminAccess(boolean exposeMetrics) {
    this.exposeMetrics = exposeMetrics;
  }

  public Answer answer(String path, boolean fromLoopback) {
    boolean health = "/healthz".equals(path) || "/readyz".equals(path);
    if (fromLoopback) {
      return health || "/metrics".equals(path) ? Answer.FULL : Answer.NOT_FOUND;
    }
    if (health) {
      return Answer.STATUS_ONLY;
    }
    return exposeMetrics && "/metrics".equals(path) ? Answer.FULL : Answer.NOT_FOUND;
  }

  /**
   * Whether a peer address (an IP literal, as the server saw it) is this host's loopback:
   * 127.0.0.0/8, ::1 or an IPv4-mapped 127.x. Anything unparsable counts as remote.
   */
  public static boolean isLoopback(String ipLiteral) {
    byte[] bytes = ipLiteral == null ? null : NetUtil.createByteArrayFromIpAddressString(ipLiteral);
    if (bytes == null) {
      return false;
    }
    try {
      // getByAddress turns an IPv4-mapped IPv6 address into the IPv4 one; no lookup happens.
      return InetAddress.getByAddress(bytes).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
