package dev.capgate.sidecar.http;

import dev.capgate.sidecar.admin.Metrics;
import dev.capgate.sidecar.audit.AuditLog;
import dev.capgate.sidecar.audit.AuditRecorder;
import dev.capgate.sidecar.audit.RequestIds;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.policy.ConnectionKind;
import dev.capgate.sidecar.policy.PolicySource;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;

/**
 * The sidecar's HTTP/2 termination of one agent TLS connection to {@code api.github.test}, on an
 * {@link EmbeddedChannel}: no policy installed, no credentials, no upstream (a test that needs them
 * is an IT). What the HTTP/2 refusal tests drive with a client codec of their own.
 *
 * @param server the agent connection's channel, the termination installed
 * @param auditLog close it before reading the audit lines: it writes them asynchronously
 */
record EmbeddedH2Termination(EmbeddedChannel server, AuditLog auditLog) {

  static EmbeddedH2Termination start(OutputStream auditOut) {
    AuditLog log = new AuditLog(auditOut, Clock.systemUTC());
    HttpServices services = services(log);
    EmbeddedChannel server = new EmbeddedChannel();
    new HttpTermination(services)
        .installHttp2(server, connection(), new IdleClose(Duration.ZERO, services.activity()));
    return new EmbeddedH2Termination(server, log);
  }

  /** Services with no policy installed, no credentials and no upstream, auditing to {@code log}. */
  static HttpServices services(AuditLog log) {
    Metrics metrics = new Metrics();
    return new HttpServices(
        new PolicySource(),
        null,
        null,
        null,
        new AuditRecorder(log, metrics),
        new RequestIds(),
        metrics,
        Duration.ofSeconds(5),
        Duration.ofMinutes(1),
        Placeholders.none(),
        new KnownSecrets());
  }

  /** An agent's TLS connection to {@code api.github.test}. */
  static AgentConnection connection() {
    return new AgentConnection(
        "c1",
        new InetSocketAddress("198.18.0.1", 40000),
        new InetSocketAddress("198.18.0.2", 443),
        ConnectionKind.TLS,
        "api.github.test",
        "github-api",
        System.nanoTime());
  }

  /** Moves what {@code from} wrote to {@code to}'s inbound side, running both loops' tasks. */
  static void shuttle(EmbeddedChannel from, EmbeddedChannel to) {
    from.runPendingTasks();
    Object out;
    while ((out = from.readOutbound()) != null) {
      to.writeInbound((ByteBuf) out);
    }
    to.runPendingTasks();
  }
}
