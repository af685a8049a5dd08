package dev.capgate.sidecar.upstream;

import dev.capgate.sidecar.dns.SidecarResolver;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.proxy.HttpProxyHandler;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

/**
 * Opens the sidecar's own connections to upstreams, on the event loop of the agent connection they
 * serve (no cross-thread hand-off per byte). Host names are resolved by the sidecar itself ({@link
 * SidecarResolver}: the pod spec's hostAliases, then DNS; never the pod's /etc/hosts), never taken
 * from the agent: an agent must not reach any IP it likes by sending an allowed SNI.
 *
 * <p>With an {@link UpstreamProxy} (corporate egress), every connection is a {@code CONNECT
 * host:port} tunnel through it instead (Netty's {@link HttpProxyHandler}, first in the pipeline, so
 * TLS to the origin runs inside the tunnel); the proxy resolves the name. A dial completes once the
 * tunnel is open, so callers see the same ready channel either way.
 */
public final class UpstreamDialer {
  private final SidecarResolver resolver;
  private final int connectTimeoutMillis;
  private final UpstreamProxy proxy;

  /** The upstream cannot be reached; the message is safe for logs and error bodies. */
  public static final class DialFailure extends Exception {
    public DialFailure(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }

  public UpstreamDialer(SidecarResolver resolver, Duration connectTimeout) {
    this(resolver, connectTimeout, null);
  }

  /**
   * @param proxy the HTTP CONNECT proxy every connection goes through, or null for direct
   *     connections
   */
  public UpstreamDialer(SidecarResolver resolver, Duration connectTimeout, UpstreamProxy proxy) {
    this.resolver = resolver;
    this.connectTimeoutMillis = (int) connectTimeout.toMillis();
    this.proxy = proxy;
  }

  /** Resolves {@code host}, refuses local targets, then connects to {@code host}'s address. */
  public Future<Channel> dialHost(
      EventLoop loop, String host, int port, ChannelHandler initializer) {
    return dialHost(loop, host, port, null, initializer);
  }

  /**
   * As above; among the addresses the sidecar resolved, {@code preferred} (the agent's original
   * destination) is taken when it is one of them, so a name with several addresses does not move
   * the connection for nothing. An address the sidecar did not resolve is never dialled.
   */
  public Future<Channel> dialHost(
      EventLoop loop, String host, int port, InetAddress preferred, ChannelHandler initializer) {
    Promise<Channel> promise = loop.newPromise();
    if (proxy != null) {
      viaProxy(
          loop,
          InetSocketAddress.createUnresolved(host, port),
          initializer,
          promise,
          host + ":" + port);
      return promise;
    }
    resolver
        .resolveAll(loop, host)
        .addListener(
            resolved -> {
              if (!resolved.isSuccess()) {
                promise.tryFailure(new DialFailure("cannot resolve " + host, resolved.cause()));
                return;
              }
              @SuppressWarnings("unchecked")
              List<InetAddress> addresses = (List<InetAddress>) resolved.getNow();
              if (addresses.isEmpty() || addresses.stream().anyMatch(UpstreamDialer::isLocal)) {
                // The sidecar's own ports (admin, listener) live on loopback: no allowed name may
                // lead there.
                promise.tryFailure(new DialFailure(host + " resolves to a local address", null));
                return;
              }
              InetAddress ip =
                  preferred != null && addresses.contains(unmapped(preferred))
                      ? unmapped(preferred)
                      : addresses.getFirst();
              connect(loop, new InetSocketAddress(ip, port), initializer, promise, host);
            });
    return promise;
  }

  /** Whether connections go through an upstream proxy (then the proxy resolves names). */
  public boolean viaProxy() {
    return proxy != null;
  }

  /** Connects to an address policy approved as such (raw TCP rules by CIDR). */
  public Future<Channel> dialAddress(
      EventLoop loop, InetSocketAddress address, ChannelHandler initializer) {
    Promise<Channel> promise = loop.newPromise();
    if (isLocal(address.getAddress())) {
      promise.tryFailure(new DialFailure("refusing a local address", null));
      return promise;
    }
    if (proxy != null) {
      viaProxy(
          loop,
          address,
          initializer,
          promise,
          address.getAddress().getHostAddress() + ":" + address.getPort());
      return promise;
    }
    connect(loop, address, initializer, promise, address.getAddress().getHostAddress());
    return promise;
  }

  private void connect(
      EventLoop loop,
      InetSocketAddress address,
      ChannelHandler initializer,
      Promise<Channel> promise,
      String name) {
    ChannelFuture connect =
        new Bootstrap()
            .group(loop)
            .channel(EpollSocketChannel.class)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
            .option(ChannelOption.TCP_NODELAY, true)
            // Reads start only once the agent side is wired: no upstream byte arrives with nowhere
            // to go.
            .option(ChannelOption.AUTO_READ, false)
            .handler(initializer)
            .connect(address);
    connect.addListener(
        (ChannelFuture f) -> {
          if (f.isSuccess()) {
            promise.trySuccess(f.channel());
          } else {
            promise.tryFailure(
                new DialFailure("cannot connect to " + name + ":" + address.getPort(), f.cause()));
          }
        });
  }

  /**
   * Connects to the proxy (its name resolved now: it may move), asks it for a tunnel to {@code
   * destination} (unresolved: the proxy resolves it), and completes {@code promise} once the tunnel
   * is open. Reads stay manual: the proxy handler reads its own answer.
   */
  private void viaProxy(
      EventLoop loop,
      InetSocketAddress destination,
      ChannelHandler initializer,
      Promise<Channel> promise,
      String name) {
    resolver
        .resolveAll(loop, proxy.host())
        .addListener(
            resolved -> {
              if (!resolved.isSuccess() || ((List<?>) resolved.getNow()).isEmpty()) {
                promise.tryFailure(
                    new DialFailure(
                        "cannot resolve the upstream proxy " + proxy.host(), resolved.cause()));
                return;
              }
              InetSocketAddress proxyAddress =
                  new InetSocketAddress(
                      (InetAddress) ((List<?>) resolved.getNow()).getFirst(), proxy.port());
              HttpProxyHandler tunnel =
                  proxy.authenticates()
                      ? new HttpProxyHandler(proxyAddress, proxy.username(), proxy.password())
                      : new HttpProxyHandler(proxyAddress);
              tunnel.setConnectTimeoutMillis(connectTimeoutMillis);
              ChannelFuture connect =
                  new Bootstrap()
                      .group(loop)
                      .channel(EpollSocketChannel.class)
                      .resolver(
                          NoopAddressResolverGroup.INSTANCE) // the name goes to the proxy as it is
                      .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                      .option(ChannelOption.TCP_NODELAY, true)
                      .option(ChannelOption.AUTO_READ, false)
                      .handler(
                          new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                              ch.pipeline().addLast("proxy", tunnel);
                              ch.pipeline().addLast(initializer);
                            }
                          })
                      .connect(destination);
              connect.addListener(
                  (ChannelFuture f) -> {
                    if (!f.isSuccess()) {
                      promise.tryFailure(
                          new DialFailure(
                              "cannot connect to the upstream proxy " + proxy, f.cause()));
                      return;
                    }
                    tunnel
                        .connectFuture()
                        .addListener(
                            t -> {
                              if (t.isSuccess()) {
                                promise.trySuccess(f.channel());
                              } else {
                                f.channel().close();
                                promise.tryFailure(
                                    new DialFailure(
                                        "the upstream proxy "
                                            + proxy
                                            + " did not open a tunnel to "
                                            + name
                                            + ": "
                                            + proxyAnswer(t.cause()),
                                        t.cause()));
                              }
                            });
                  });
            });
  }

  /**
   * The proxy's answer ("status: 403 Forbidden", "timeout", "disconnected") without Netty's
   * preamble.
   */
  private static String proxyAnswer(Throwable cause) {
    String m = cause == null || cause.getMessage() == null ? "failed" : cause.getMessage();
    int arrow = m.indexOf(" => ");
    int comma = arrow < 0 ? -1 : m.indexOf(", ", arrow);
    return comma < 0 ? m : m.substring(comma + 2);
  }

  static boolean isLocal(InetAddress ip) {
    if (ip.isLoopbackAddress()
        || ip.isAnyLocalAddress()
        || ip.isLinkLocalAddress()
        || ip.isMulticastAddress()) {
      return true;
    }
    byte[] b = ip.getAddress();
    if (b.length == 16 && isV4Mapped(b)) {
      try {
        return isLocal(Inet4Address.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16)));
      } catch (UnknownHostException e) {
        return true;
      }
    }
    return false;
  }

  /** An IPv4-mapped IPv6 address as the IPv4 address it is (what the agent dialled over IPv6). */
  public static InetAddress unmapped(InetAddress ip) {
    byte[] b = ip.getAddress();
    if (b.length == 16 && isV4Mapped(b)) {
      try {
        return Inet4Address.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16));
      } catch (UnknownHostException e) {
        return ip;
      }
    }
    return ip;
  }

  private static boolean isV4Mapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
  }
}
