package dev.capgate.sidecar.dns;

import dev.capgate.sidecar.audit.AuditRecorder;
import dev.capgate.sidecar.audit.RequestIds;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.listen.DualStackBind;
import dev.capgate.sidecar.policy.PolicySource;
import io.netty.bootstrap.AbstractBootstrap;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.TcpDnsQueryDecoder;
import io.netty.handler.codec.dns.TcpDnsResponseEncoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.PromiseCombiner;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * The pod's DNS, as agents see it (port 53, UDP and TCP, is redirected here): names policy allows
 * are asked of the pod's real resolver and answered as it answers; every other name gets NXDOMAIN,
 * so an agent cannot even learn the addresses of hosts it may not reach, nor tunnel data out
 * through lookups of names it invents (beyond the allowed domains).
 *
 * <p>Netty's DNS codec on channels of a Vert.x event loop, forwarding through Netty's asynchronous
 * {@link DnsNameResolver} (ids, timeouts, TCP fallback for truncated answers; no cache of its own:
 * the real resolver caches).
 */
public final class DnsProxy {
  private static final Logger LOG = Logger.getLogger(DnsProxy.class.getName());

  private final EventLoop loop;
  private final int port;
  private final InetSocketAddress upstream;
  private final PolicySource policies;
  private final AuditRecorder audit;
  private final RequestIds ids;
  private final Placeholders placeholders;
  private final List<Channel> channels = new ArrayList<>();
  private DnsNameResolver resolver;

  /**
   * @param placeholders the pod's placeholder credentials: a query name carrying one is refused and
   *     audited
   */
  public DnsProxy(
      EventLoop loop,
      int port,
      InetSocketAddress upstream,
      PolicySource policies,
      AuditRecorder audit,
      RequestIds ids,
      Placeholders placeholders) {
    this.placeholders = placeholders;
    this.loop = loop;
    this.port = port;
    this.upstream = upstream;
    this.policies = policies;
    this.audit = audit;
    this.ids = ids;
  }

  /** Binds UDP and TCP on the DNS port. */
  public Future<Void> start() {
    resolver =
        new DnsNameResolverBuilder(loop)
            .datagramChannelType(EpollDatagramChannel.class)
            .socketChannelType(EpollSocketChannel.class)
            .nameServerProvider(new SingletonDnsServerAddressStreamProvider(upstream))
            .resolveCache(NoopDnsCache.INSTANCE)
            .queryTimeoutMillis(3000)
            .recursionDesired(true)
            .maxQueriesPerResolve(2)
            .build();
    DnsQueryHandler handler = new DnsQueryHandler(policies, resolver, audit, ids, placeholders);
    Bootstrap udp =
        new Bootstrap()
            .group(loop)
            .channel(EpollDatagramChannel.class)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(
                            new DatagramDnsQueryDecoder(),
                            new DatagramDnsResponseEncoder(),
                            handler);
                  }
                });
    ServerBootstrap tcp =
        new ServerBootstrap()
            .group(loop)
            .channel(EpollServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(
                            new ReadTimeoutHandler(30),
                            new TcpDnsQueryDecoder(),
                            new TcpDnsResponseEncoder(),
                            handler);
                  }
                });
    Promise<Void> all = loop.newPromise();
    PromiseCombiner combiner = new PromiseCombiner(loop);
    loop.execute(
        () -> {
          combiner.add(bindLoopback(udp, "udp"));
          combiner.add(bindDualStack(tcp, "tcp"));
          combiner.finish(all);
        });
    return all;
  }

  public void stop() {
    channels.forEach(Channel::close);
    if (resolver != null) {
      resolver.close();
    }
  }

  /**
   * UDP on {@code 127.0.0.1} and {@code [::1]} (when the kernel has IPv6): iptables REDIRECT sends
   * an agent's queries to the loopback address of their family, and a reply must leave from exactly
   * that address, or conntrack cannot map it back to the resolver the agent asked and the agent
   * drops it (a socket on {@code [::]} answers from the pod IP: every query then times out instead
   * of getting its NXDOMAIN, found on a real pod). TCP has no such problem.
   */
  private Future<Void> bindLoopback(Bootstrap bootstrap, String protocol) {
    Promise<Void> bound = loop.newPromise();
    bootstrap
        .bind(new InetSocketAddress("127.0.0.1", port))
        .addListener(
            (ChannelFuture v4) -> {
              if (!v4.isSuccess()) {
                bound.tryFailure(v4.cause());
                return;
              }
              listening(v4.channel(), protocol);
              bootstrap
                  .bind(new InetSocketAddress("::1", port))
                  .addListener(
                      (ChannelFuture v6) -> {
                        if (v6.isSuccess()) {
                          listening(v6.channel(), protocol);
                        } else {
                          LOG.info(
                              "no IPv6 loopback for the DNS proxy ("
                                  + v6.cause().getMessage()
                                  + "): IPv4 only");
                        }
                        bound.trySuccess(null);
                      });
            });
    return bound;
  }

  /** Where the proxy listens (for tests and diagnostics). */
  public List<java.net.SocketAddress> boundAddresses() {
    return channels.stream().map(Channel::localAddress).toList();
  }

  /** {@code [::]} (dual stack), or {@code 0.0.0.0} on a kernel without IPv6. */
  private Future<Void> bindDualStack(AbstractBootstrap<?, ?> bootstrap, String protocol) {
    Promise<Void> bound = loop.newPromise();
    DualStackBind.bind(bootstrap, port, bound, channel -> listening(channel, protocol));
    return bound;
  }

  private void listening(Channel channel, String protocol) {
    channels.add(channel);
    LOG.info(
        "DNS proxy bound on "
            + channel.localAddress()
            + " ("
            + protocol
            + "), upstream resolver "
            + upstream);
  }
}
