package dev.capgate.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Free loopback ports, so several stacks (and other test JVMs) never fight over a fixed port. */
final class Ports {
  private Ports() {}

  /**
   * A port that was free a moment ago. There is a small window in which someone else could take it;
   * the component then fails to bind and its start-up error says so in its log.
   */
  static int free() {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }
}
