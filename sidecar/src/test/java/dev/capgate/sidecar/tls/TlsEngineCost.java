package dev.capgate.sidecar.tls;

import dev.capgate.testkit.Pki;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLEngine;

/**
 * What one TLS engine costs the sidecar per handshake and per record, CPU time and allocation of
 * the sidecar's own engine only (the peer's calls are not counted), engine to engine in memory on
 * one thread, so the machine's load moves the CPU figures little and the allocation not at all. Not
 * a test: {@code java -Dcapgate.tls.engine=jdk|openssl -Dcapgate.tls.agent-engine=openssl ...
 * TlsEngineCost} (sidecar/README.md, "TLS engine"; the agent side is on BoringSSL only with the
 * second property).
 *
 * <p>Agent side: the sidecar's leaf context as server, a JDK client. Upstream side: {@link
 * UpstreamTls} as client, a JDK server (the bench's upstream is JDK TLS): full handshakes (a new
 * client context each time, nothing to resume) and resumed ones. Records: a 300-byte request the
 * agent side reads and the upstream side writes, a 1 KiB response the upstream side reads and the
 * agent side writes.
 */
public final class TlsEngineCost {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /** CPU ns and bytes allocated by the measured engine's calls. */
  static final class Meter {
    long nanos;
    long bytes;
    int count;

    <T> T measure(java.util.concurrent.Callable<T> call) throws Exception {
      long t0 = THREADS.getCurrentThreadCpuTime();
      long b0 = THREADS.getCurrentThreadAllocatedBytes();
      T result = call.call();
      nanos += THREADS.getCurrentThreadCpuTime() - t0;
      bytes += THREADS.getCurrentThreadAllocatedBytes() - b0;
      return result;
    }

    void reset() {
      nanos = 0;
      bytes = 0;
      count = 0;
    }

    String per(String what) {
      return String.format(
          "%-40s %9.1f µs CPU %9.0f B allocated",
          what, nanos / 1e3 / count, (double) bytes / count);
    }
  }

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    System.out.println("engine: " + (TlsEngine.openSsl() ? "BoringSSL" : "JDK"));
    Pki upstreamCa = new Pki("upstream CA");
    Pki.Issued cert = upstreamCa.issueServer("upstream", List.of("api.github.test"), List.of());
    SslContext jdkServer =
        SslContextBuilder.forServer(cert.key(), cert.certificate(), upstreamCa.caCertificate())
            .sslProvider(SslProvider.JDK)
            .protocols("TLSv1.3", "TLSv1.2")
            .build();
    Path caFile = Files.createTempFile("upstream-ca", ".pem");
    Files.writeString(caFile, upstreamCa.caCertPem());
    SslContext agentServer = AgentTlsContextsTest.contexts().forHost("api.github.test").get();
    SslContext jdkAgent =
        SslContextBuilder.forClient()
            .sslProvider(SslProvider.JDK)
            .trustManager(LeafMinterTest.testCa().certificate())
            .protocols("TLSv1.3")
            .build();
    UpstreamTls resuming = UpstreamTls.create(caFile);

    for (int phase = 0; phase < 2; phase++) { // phase 0 warms up the JIT
      boolean report = phase == 1;
      int n = report ? rounds : rounds / 2;
      Meter agentHs = new Meter();
      Meter upFull = new Meter();
      Meter upResumed = new Meter();
      Meter agentRead = new Meter();
      Meter agentWrite = new Meter();
      Meter upWrite = new Meter();
      Meter upRead = new Meter();
      for (int i = 0; i < n; i++) {
        // Agent side: a new agent connection (no resumption: most agents do not resume).
        SSLEngine server = agentServer.newEngine(ByteBufAllocator.DEFAULT);
        SSLEngine client = jdkAgent.newEngine(ByteBufAllocator.DEFAULT, "api.github.test", 443);
        handshake(client, new Meter(), server, agentHs);
        records(client, server, 300, agentRead, new Meter());
        records(server, client, 1024, agentWrite, new Meter());
        release(server, client);
        // Upstream side, full: a fresh client context has no session to offer.
        if (i % 10 == 0) {
          UpstreamTls fresh = UpstreamTls.create(caFile);
          SSLEngine c = fresh.newHandler(ByteBufAllocator.DEFAULT, "api.github.test", 443).engine();
          SSLEngine s = jdkServer.newEngine(ByteBufAllocator.DEFAULT);
          handshake(c, upFull, s, new Meter());
          release(c, s);
        }
        // Upstream side with the sidecar's long-lived context: resumed after the first.
        SSLEngine c =
            resuming.newHandler(ByteBufAllocator.DEFAULT, "api.github.test", 443).engine();
        SSLEngine s = jdkServer.newEngine(ByteBufAllocator.DEFAULT);
        handshake(c, i == 0 ? new Meter() : upResumed, s, new Meter());
        records(c, s, 300, upWrite, new Meter());
        records(s, c, 1024, new Meter(), upRead);
        release(c, s);
      }
      if (report) {
        System.out.println(agentHs.per("agent side: full handshake (server)"));
        System.out.println(upFull.per("upstream side: full handshake (client)"));
        System.out.println(upResumed.per("upstream side: handshake, resumable"));
        System.out.println(agentRead.per("agent side: read a 300 B request"));
        System.out.println(agentWrite.per("agent side: write a 1 KiB response"));
        System.out.println(upWrite.per("upstream side: write a 300 B request"));
        System.out.println(upRead.per("upstream side: read a 1 KiB response"));
      }
    }
  }

  private static void release(SSLEngine... engines) {
    for (SSLEngine e : engines) {
      ReferenceCountUtil.release(e);
    }
  }

  /** {@code from} seals {@code size} bytes, {@code to} opens them; one count on each meter. */
  private static void records(
      SSLEngine from, SSLEngine to, int size, Meter fromMeter, Meter toMeter) throws Exception {
    ByteBuffer plain = ByteBuffer.allocate(size);
    ByteBuffer wire = ByteBuffer.allocate(from.getSession().getPacketBufferSize());
    ByteBuffer out = ByteBuffer.allocate(to.getSession().getApplicationBufferSize());
    fromMeter.measure(() -> from.wrap(plain, wire));
    wire.flip();
    while (wire.hasRemaining()) {
      var r = toMeter.measure(() -> to.unwrap(wire, out));
      if (r.bytesConsumed() == 0) {
        break;
      }
    }
    fromMeter.count++;
    toMeter.count++;
  }

  /** As TlsEngineTest's, with each engine's calls on its meter. */
  static void handshake(SSLEngine client, Meter cm, SSLEngine server, Meter sm) throws Exception {
    cm.measure(
        () -> {
          client.beginHandshake();
          return null;
        });
    sm.measure(
        () -> {
          server.beginHandshake();
          return null;
        });
    ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
    ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
    ByteBuffer app = ByteBuffer.allocate(1 << 17);
    ByteBuffer empty = ByteBuffer.allocate(0);
    for (int round = 0; round < 50; round++) {
      cm.measure(
          () -> {
            TlsEngineTest.step(client, empty, toServer, toClient, app);
            return null;
          });
      sm.measure(
          () -> {
            TlsEngineTest.step(server, empty, toClient, toServer, app);
            return null;
          });
      boolean done =
          TlsEngineTest.done(client.getHandshakeStatus())
              && TlsEngineTest.done(server.getHandshakeStatus())
              && toServer.position() == 0
              && toClient.position() == 0;
      if (done && round > 2) {
        cm.count++;
        sm.count++;
        return;
      }
    }
    throw new AssertionError("handshake did not finish");
  }
}
