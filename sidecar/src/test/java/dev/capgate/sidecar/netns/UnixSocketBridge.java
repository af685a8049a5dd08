package dev.capgate.sidecar.netns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Carries TCP between network namespaces through a Unix socket, which belongs to the file system
 * and not to any namespace: the test JVM (root namespace) serves a Unix socket that connects to
 * OpenBao on its loopback, and the upstream helper (upstream namespace) listens on TCP there and
 * connects to that socket. So the sidecar reaches the real Vault the way a pod reaches a remote
 * one.
 */
public final class UnixSocketBridge implements AutoCloseable {
  private final ServerSocketChannel server;

  private UnixSocketBridge(ServerSocketChannel server) {
    this.server = server;
  }

  /** Listens on {@code listen} (TCP or Unix) and connects each client to {@code target}. */
  public static UnixSocketBridge start(SocketAddress listen, SocketAddress target)
      throws IOException {
    ServerSocketChannel server;
    if (listen instanceof UnixDomainSocketAddress unix) {
      Files.deleteIfExists(unix.getPath());
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    } else {
      server = ServerSocketChannel.open();
    }
    server.bind(listen, 64);
    UnixSocketBridge bridge = new UnixSocketBridge(server);
    Thread.ofVirtual().name("bridge-accept").start(() -> bridge.acceptLoop(target));
    return bridge;
  }

  public static SocketAddress parse(String text) {
    if (text.startsWith("/")) {
      return UnixDomainSocketAddress.of(Path.of(text));
    }
    int colon = text.lastIndexOf(':');
    return new InetSocketAddress(
        text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
  }

  private void acceptLoop(SocketAddress target) {
    while (server.isOpen()) {
      try {
        SocketChannel client = server.accept();
        SocketChannel upstream =
            target instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open();
        upstream.connect(target);
        Thread.ofVirtual().start(() -> pump(client, upstream));
        Thread.ofVirtual().start(() -> pump(upstream, client));
      } catch (IOException e) {
        if (!server.isOpen()) {
          return;
        }
      }
    }
  }

  private static void pump(SocketChannel from, SocketChannel to) {
    ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
    try {
      while (from.read(buffer) >= 0) {
        buffer.flip();
        while (buffer.hasRemaining()) {
          to.write(buffer);
        }
        buffer.clear();
      }
    } catch (IOException ignored) {
      // either side closed
    } finally {
      try {
        from.close();
        to.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
