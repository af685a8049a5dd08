package dev.capgate.cli.command;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.capgate.testkit.Pki;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The container-log endpoint of one node's kubelet ({@code GET /containerLogs/NS/POD/CONTAINER}),
 * written by the test. The shared control plane has no node and no container runtime, so nothing
 * else can write a container's log; what the plugin talks to stays real: it asks the real API
 * server for {@code pods/POD/log?follow=true}, and the API server finds the pod's node, reads the
 * node's address and kubelet port from its status (which {@link #registerNode} writes) and streams
 * this endpoint's answer back, flushing as it comes. The API server has no kubelet CA configured,
 * so it does not check this endpoint's certificate (a real kubelet's is self-signed the same way).
 */
final class KubeletLogs implements AutoCloseable {
  private static final String END = new String("end of log");

  private final HttpsServer server;
  private final BlockingQueue<Stream> streams = new LinkedBlockingQueue<>();
  private KubernetesClient client;
  private String node;

  /** One log request the API server made: the test writes the container's lines into it. */
  static final class Stream {
    private final String request;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final CountDownLatch readerGone = new CountDownLatch(1);

    private Stream(String request) {
      this.request = request;
    }

    /** Path and query as the API server sent them. */
    String request() {
      return request;
    }

    /** The container writes {@code line}. */
    void write(String line) {
      lines.add(line);
    }

    /** The container's log ends (it stopped): the answer is complete. */
    void end() {
      lines.add(END);
    }

    /** True once a write failed because the API server had closed the connection. */
    boolean awaitReaderGone(Duration timeout) throws InterruptedException {
      return readerGone.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private KubeletLogs(Pki pki) throws IOException {
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(
        new HttpsConfigurator(
            pki.sslContext(
                pki.issueServer("kubelet", List.of("localhost"), List.of("127.0.0.1")))));
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/containerLogs/", this::serve);
    server.start();
  }

  static KubeletLogs start(Pki pki) throws IOException {
    return new KubeletLogs(pki);
  }

  /**
   * A Node {@code name} whose kubelet is this endpoint: status.addresses 127.0.0.1 and
   * status.daemonEndpoints.kubeletEndpoint.port this port (a kubelet writes both when it
   * registers). Removed again by {@link #close}.
   */
  String registerNode(KubernetesClient client, String name) {
    this.client = client;
    this.node = name;
    client
        .nodes()
        .resource(new NodeBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    client
        .nodes()
        .withName(name)
        .subresource("status")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            """
            {"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],
                       "daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}}
            """
                .formatted(server.getAddress().getPort()));
    return name;
  }

  /** The next log request the API server makes. */
  Stream awaitStream(Duration timeout) throws InterruptedException {
    Stream stream = streams.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (stream == null) {
      throw new AssertionError("the API server asked for no container log within " + timeout);
    }
    return stream;
  }

  private void serve(HttpExchange exchange) throws IOException {
    Stream stream = new Stream(exchange.getRequestURI().toString());
    exchange.getResponseHeaders().set("Content-Type", "text/plain");
    exchange.sendResponseHeaders(200, 0);
    streams.add(stream);
    try (OutputStream out = exchange.getResponseBody()) {
      while (true) {
        String line = stream.lines.poll(100, TimeUnit.MILLISECONDS);
        if (line == END) {
          return;
        }
        // While the container is quiet an empty line (which the plugin skips, as every line that
        // is not an audit line): writing is how a server learns that its reader has gone.
        out.write(((line == null ? "" : line) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (IOException e) {
      stream.readerGone.countDown();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      exchange.close();
    }
  }

  @Override
  public void close() {
    server.stop(0);
    if (node != null) {
      client.nodes().withName(node).delete();
    }
  }
}
