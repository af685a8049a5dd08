package dev.capgate.sidecar.intercept;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.unix.RawUnixChannelOption;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * Where the agent meant to go before {@code iptables -j REDIRECT} sent it to us: the {@code
 * SO_ORIGINAL_DST} socket option (option 80 at level SOL_IP, or SOL_IPV6 for IPv6), read through
 * Netty's generic raw option on the accepted epoll channel: no JNI or FFM of our own.
 */
public final class OriginalDestination {
  private static final int SO_ORIGINAL_DST = 80;
  private static final int SOL_IP = 0;
  private static final int SOL_IPV6 = 41;
  private static final RawUnixChannelOption IPV4 =
      new RawUnixChannelOption("SO_ORIGINAL_DST", SOL_IP, SO_ORIGINAL_DST, 16);
  private static final RawUnixChannelOption IPV6 =
      new RawUnixChannelOption("IP6T_SO_ORIGINAL_DST", SOL_IPV6, SO_ORIGINAL_DST, 28);
  private static final int AF_INET = 2;
  private static final int AF_INET6 = 10;

  private OriginalDestination() {}

  /**
   * The original destination, or empty when the kernel has none (no NAT happened: a connection made
   * straight to the listener; or conntrack is missing).
   */
  public static Optional<InetSocketAddress> of(Channel channel) {
    // The listener is dual-stack: an IPv4 client arrives on an IPv6 socket, but its conntrack
    // entry is IPv4. Try SOL_IP first, then SOL_IPV6 (the kernel says ENOENT for the wrong family).
    for (RawUnixChannelOption option : new RawUnixChannelOption[] {IPV4, IPV6}) {
      try {
        ByteBuffer raw = channel.config().getOption(option);
        if (raw != null) {
          Optional<InetSocketAddress> parsed = parse(raw);
          if (parsed.isPresent()) {
            return parsed;
          }
        }
      } catch (ChannelException e) {
        // ENOENT / ENOPROTOOPT: not this family's entry; try the next.
      }
    }
    return Optional.empty();
  }

  /** Parses a {@code sockaddr_in} or {@code sockaddr_in6}. */
  static Optional<InetSocketAddress> parse(ByteBuffer raw) {
    ByteBuffer b = raw.duplicate(); // as Netty returns it: flipped, position 0
    if (b.remaining() < 8) {
      return Optional.empty();
    }
    int start = b.position();
    int family = b.duplicate().order(ByteOrder.nativeOrder()).getShort(start) & 0xffff;
    int port = b.duplicate().order(ByteOrder.BIG_ENDIAN).getShort(start + 2) & 0xffff;
    try {
      if (family == AF_INET && b.remaining() >= 8) {
        byte[] addr = new byte[4];
        b.get(start + 4, addr);
        return Optional.of(new InetSocketAddress(InetAddress.getByAddress(addr), port));
      }
      if (family == AF_INET6 && b.remaining() >= 24) {
        byte[] addr = new byte[16];
        b.get(start + 8, addr);
        return Optional.of(new InetSocketAddress(InetAddress.getByAddress(addr), port));
      }
    } catch (UnknownHostException e) {
      // only for a wrong length, which the checks above exclude
    }
    return Optional.empty();
  }
}
