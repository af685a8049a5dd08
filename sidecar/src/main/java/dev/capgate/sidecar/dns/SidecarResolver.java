package dev.capgate.sidecar.dns;

import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * How the sidecar resolves the names it dials (passthrough splices, intercepted upstreams, the
 * upstream proxy): the pod spec's {@code hostAliases} as fixed at admission, then DNS asked of the
 * sidecar's DNS upstream. Never {@code /etc/hosts} (and never the agent's choice of address):
 * kubelet mounts one hosts file into every container of the pod, so an agent that can write it
 * would otherwise choose where the sidecar sends what policy allowed.
 *
 * <p>Netty's asynchronous resolver, one per event loop (cached per loop by the group, with TTLs
 * honoured): resolution never blocks the event loop the dial runs on.
 */
public final class SidecarResolver implements AutoCloseable {
  private final DnsAddressResolverGroup group;
  private final InetSocketAddress upstream;

  /**
   * @param searchDomains and {@code ndots}: as in the pod's resolv.conf, so that a short cluster
   *     name resolves for the sidecar as it does for the agent
   */
  public SidecarResolver(
      HostAliases aliases, InetSocketAddress upstream, List<String> searchDomains, int ndots) {
    this.upstream = upstream;
    this.group =
        new DnsAddressResolverGroup(
            new DnsNameResolverBuilder()
                .datagramChannelType(EpollDatagramChannel.class)
                .socketChannelType(EpollSocketChannel.class)
                .nameServerProvider(new SingletonDnsServerAddressStreamProvider(upstream))
                .hostsFileEntriesResolver(aliases)
                .searchDomains(searchDomains)
                .ndots(ndots)
                .queryTimeoutMillis(5000)
                .recursionDesired(true));
  }

  /** Every address of {@code host}, aliases first; an IP literal resolves to itself. */
  public Future<List<InetAddress>> resolveAll(EventLoop loop, String host) {
    Promise<List<InetAddress>> promise = loop.newPromise();
    group
        .getResolver(loop)
        .resolveAll(InetSocketAddress.createUnresolved(host, 0))
        .addListener(
            f -> {
              if (f.isSuccess()) {
                @SuppressWarnings("unchecked")
                List<InetSocketAddress> found = (List<InetSocketAddress>) f.getNow();
                promise.trySuccess(found.stream().map(InetSocketAddress::getAddress).toList());
              } else {
                promise.tryFailure(f.cause());
              }
            });
    return promise;
  }

  public InetSocketAddress upstream() {
    return upstream;
  }

  @Override
  public void close() {
    group.close();
  }
}
