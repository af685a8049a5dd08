package dev.capgate.e2e;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP and a UDP listener on this host, outside the pod ({@code [::]}: IPv4 and IPv6), that an
 * agent tries to reach around its sidecar. Anything that arrives is a bypass; a TCP connection that
 * arrives gets {@code CANARY-ACK} so the agent side can see it too.
 */
final class Canary implements AutoCloseable {
  private final ServerSocket tcp;
  private final DatagramSocket udp;
  private final List<String> hits = new CopyOnWriteArrayList<>();

  Canary() {
    try {
      tcp = new ServerSocket();
      tcp.bind(new InetSocketAddress("::", 0));
      udp = new DatagramSocket(new InetSocketAddress("::", 0));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread.startVirtualThread(
        () -> {
          while (!tcp.isClosed()) {
            try (Socket s = tcp.accept();
                OutputStream out = s.getOutputStream()) {
              hits.add("tcp from " + s.getRemoteSocketAddress());
              out.write("CANARY-ACK\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException ignored) {
              // closed
            }
          }
        });
    Thread.startVirtualThread(
        () -> {
          byte[] buffer = new byte[512];
          while (!udp.isClosed()) {
            try {
              DatagramPacket p = new DatagramPacket(buffer, buffer.length);
              udp.receive(p);
              hits.add("udp from " + p.getSocketAddress());
            } catch (IOException ignored) {
              // closed
            }
          }
        });
  }

  int tcpPort() {
    return tcp.getLocalPort();
  }

  int udpPort() {
    return udp.getLocalPort();
  }

  List<String> hits() {
    return List.copyOf(hits);
  }

  @Override
  public void close() throws IOException {
    tcp.close();
    udp.close();
  }
}
