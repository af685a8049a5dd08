package dev.capgate.sidecar.intercept;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.vertx.core.internal.resolver.NameResolver;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;

/**
 * Opens the sidecar's own connections to upstreams, on the event loop of the agent connection they
 * serve (no cross-thread hand-off per byte). Host names are resolved by the sidecar itself through
 * Vert.x's asynchronous resolver (hosts file + the pod's resolv.conf), never taken from the agent:
 * an agent must not reach any IP it likes by sending an allowed SNI.
 */
public final class UpstreamDialer {
  private final NameResolver resolver;
  private final int connectTimeoutMillis;

  /** The upstream cannot be reached; the message is safe for logs and error bodies. */
  public static final class DialFailure extends Exception {
    public DialFailure(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }

  public UpstreamDialer(NameResolver resolver, Duration connectTimeout) {
    this.resolver = resolver;
    this.connectTimeoutMillis = (int) connectTimeout.toMillis();
  }

  /** Resolves {@code host}, refuses local targets, then connects to {@code host}'s address. */
  public Future<Channel> dialHost(EventLoop loop, String host, int port, ChannelHandler initializer) {
    Promise<Channel> promise = loop.newPromise();
    resolver.resolve(loop, host).addListener(resolved -> {
      if (!resolved.isSuccess()) {
        promise.tryFailure(new DialFailure("cannot resolve " + host, resolved.cause()));
        return;
      }
      InetSocketAddress address = (InetSocketAddress) resolved.getNow();
      InetAddress ip = address.getAddress();
      if (isLocal(ip)) {
        // The sidecar's own ports (admin, listener) live on loopback: no allowed name may lead there.
        promise.tryFailure(new DialFailure(host + " resolves to a local address", null));
        return;
      }
      connect(loop, new InetSocketAddress(ip, port), initializer, promise, host);
    });
    return promise;
  }

  /** Connects to an address policy approved as such (raw TCP rules by CIDR). */
  public Future<Channel> dialAddress(EventLoop loop, InetSocketAddress address, ChannelHandler initializer) {
    Promise<Channel> promise = loop.newPromise();
    if (isLocal(address.getAddress())) {
      promise.tryFailure(new DialFailure("refusing a local address", null));
      return promise;
    }
    connect(loop, address, initializer, promise, address.getAddress().getHostAddress());
    return promise;
  }

  private void connect(EventLoop loop, InetSocketAddress address, ChannelHandler initializer,
      Promise<Channel> promise, String name) {
    ChannelFuture connect = new Bootstrap()
        .group(loop)
        .channel(EpollSocketChannel.class)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
        .option(ChannelOption.TCP_NODELAY, true)
        // Reads start only once the agent side is wired: no upstream byte arrives with nowhere to go.
        .option(ChannelOption.AUTO_READ, false)
        .handler(initializer)
        .connect(address);
    connect.addListener((ChannelFuture f) -> {
      if (f.isSuccess()) {
        promise.trySuccess(f.channel());
      } else {
        promise.tryFailure(new DialFailure("cannot connect to " + name + ":" + address.getPort(), f.cause()));
      }
    });
  }

  static boolean isLocal(InetAddress ip) {
    if (ip.isLoopbackAddress() || ip.isAnyLocalAddress() || ip.isLinkLocalAddress() || ip.isMulticastAddress()) {
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

  private static boolean isV4Mapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
  }
}
