package dev.capgate.sidecar.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.admin.Metrics;
import dev.capgate.sidecar.audit.AuditLog;
import dev.capgate.sidecar.audit.AuditRecorder;
import dev.capgate.sidecar.audit.RequestIds;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.policy.PolicySource;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The UDP side must answer from the loopback address iptables REDIRECT delivered the query to: on a
 * real pod a socket on [::] answered from the pod IP and every agent query timed out.
 */
class DnsProxyBindTest {
  @Test
  void udpListensOnLoopbackOnly() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    DnsProxy proxy =
        new DnsProxy(
            (io.netty.channel.EventLoop) group.next(),
            port,
            new InetSocketAddress("127.0.0.1", 53),
            new PolicySource(),
            new AuditRecorder(
                new AuditLog(dev.capgate.sidecar.audit.PodRef.UNKNOWN), new Metrics()),
            new RequestIds(),
            Placeholders.none());
    try {
      assertThat(proxy.start().await(10, TimeUnit.SECONDS)).isTrue();
      List<SocketAddress> bound = proxy.boundAddresses();
      // udp: 127.0.0.1 (+ ::1 where the kernel has IPv6); tcp: one dual-stack socket
      List<InetSocketAddress> loopback =
          bound.stream()
              .map(a -> (InetSocketAddress) a)
              .filter(a -> a.getAddress().isLoopbackAddress())
              .toList();
      assertThat(loopback).isNotEmpty().allMatch(a -> a.getPort() == port);
      assertThat(loopback).anyMatch(a -> a.getAddress().getHostAddress().equals("127.0.0.1"));
      assertThat(bound.size() - loopback.size()).as("the TCP listener").isEqualTo(1);
    } finally {
      proxy.stop();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
