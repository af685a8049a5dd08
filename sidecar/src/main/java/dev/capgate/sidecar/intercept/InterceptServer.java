package dev.capgate.sidecar.intercept;

import dev.capgate.sidecar.audit.RequestIds;
import dev.capgate.sidecar.listen.DualStackBind;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The transparent listener every agent TCP connection is redirected to.
 *
 * <p>Why a plain Netty {@link ServerBootstrap} on Vert.x's event loops rather than a Vert.x {@code
 * NetServer}: every connection is re-plumbed at the pipeline level (peek, then a TLS terminator
 * with a per-host context, an HTTP/2 multiplexer or a byte splice), which Vert.x's own handlers
 * (message conversion, idle handling, its SSL helper) would only stand in the way of. Running on
 * {@code VertxInternal#nettyEventLoopGroup()} keeps a single set of event-loop threads for the
 * listener, the upstream connections (dialed on the same loop as their agent connection), the DNS
 * proxy and the admin server.
 */
public final class InterceptServer {
  private static final Logger LOG = Logger.getLogger(InterceptServer.class.getName());

  private final EventLoopGroup acceptors;
  private final EventLoopGroup workers;
  private final int port;
  private final Duration peekTimeout;
  private final ConnectionRouter router;
  private final RequestIds ids;
  // OriginalDestination::of but in the AOT training run (no iptables at image build time).
  private final Function<SocketChannel, Optional<InetSocketAddress>> destinations;
  private final ChannelGroup agentConnections =
      new DefaultChannelGroup("agents", GlobalEventExecutor.INSTANCE);
  private Channel listener;
  private Set<InetAddress> localAddresses = Set.of();

  public InterceptServer(
      EventLoopGroup acceptors,
      EventLoopGroup workers,
      int port,
      Duration peekTimeout,
      ConnectionRouter router,
      RequestIds ids,
      Function<SocketChannel, Optional<InetSocketAddress>> destinations) {
    this.destinations = destinations;
    this.acceptors = acceptors;
    this.workers = workers;
    this.port = port;
    this.peekTimeout = peekTimeout;
    this.router = router;
    this.ids = ids;
  }

  /**
   * Binds {@code [::]:port} (dual stack: IPv4 agents arrive as v4-mapped addresses), or {@code
   * 0.0.0.0:port} on a kernel booted without IPv6.
   */
  public Future<Void> start() {
    localAddresses = localAddresses();
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(acceptors, workers)
            .channel(EpollServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    accept(ch);
                  }
                });
    Promise<Void> bound = workers.next().newPromise();
    DualStackBind.bind(bootstrap, port, bound, this::listening);
    return bound;
  }

  private void listening(Channel channel) {
    listener = channel;
    String address =
        channel.localAddress() instanceof InetSocketAddress local
                && local.getAddress() instanceof Inet6Address
            ? "[::]"
            : "0.0.0.0";
    LOG.info("transparent listener bound on " + address + ":" + port);
  }

  /** Closes every open agent connection (on revocation: nothing decided earlier survives it). */
  public void closeAllConnections() {
    agentConnections.close();
  }

  public Future<?> stop() {
    return listener == null ? workers.next().newSucceededFuture(null) : listener.close();
  }

  private void accept(SocketChannel ch) {
    Optional<InetSocketAddress> destination = destinations.apply(ch);
    if (destination.isEmpty() || isListenerItself(destination.get())) {
      // Not redirected (someone connected to the listener directly): there is no "where to",
      // and forwarding to ourselves would loop. Refuse.
      ch.close();
      return;
    }
    agentConnections.add(ch); // removed by the group itself when the channel closes
    String connectionId = ids.next();
    InetSocketAddress dst = destination.get();
    ch.pipeline()
        .addLast(
            "sniffer",
            new ConnectionSniffer(
                peekTimeout, (ctx, sniffed) -> router.route(ctx, connectionId, dst, sniffed)));
  }

  private boolean isListenerItself(InetSocketAddress destination) {
    InetAddress address = destination.getAddress();
    return destination.getPort() == port
        && (address.isLoopbackAddress()
            || address.isAnyLocalAddress()
            || localAddresses.contains(address));
  }

  /** The pod's own addresses, taken once at start (a pod's addresses do not change). */
  private static Set<InetAddress> localAddresses() {
    Set<InetAddress> all = new HashSet<>();
    try {
      for (NetworkInterface nic : NetworkInterface.networkInterfaces().toList()) {
        nic.inetAddresses().forEach(all::add);
      }
    } catch (SocketException e) {
      LOG.warning("cannot list local addresses: " + e.getMessage());
    }
    return Set.copyOf(all);
  }
}
