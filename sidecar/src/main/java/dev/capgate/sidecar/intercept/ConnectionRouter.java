package dev.capgate.sidecar.intercept;

import dev.capgate.sidecar.audit.AuditEvent;
import dev.capgate.sidecar.audit.AuditRecorder;
import dev.capgate.sidecar.audit.Decision;
import dev.capgate.sidecar.audit.Denial;
import dev.capgate.sidecar.audit.Flow;
import dev.capgate.sidecar.audit.Problem;
import dev.capgate.sidecar.credentials.PlaceholderLeak;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.http.AgentConnection;
import dev.capgate.sidecar.http.HttpInterceptor;
import dev.capgate.sidecar.policy.ConnectionAction;
import dev.capgate.sidecar.policy.ConnectionKind;
import dev.capgate.sidecar.policy.ConnectionVerdict;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.PolicySource;
import dev.capgate.sidecar.tls.AgentTlsContexts;
import dev.capgate.sidecar.upstream.TcpRelay;
import dev.capgate.sidecar.upstream.UpstreamDialer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Decides what happens to an agent connection once its first bytes were seen: asks policy, then
 * splices it (passthrough, raw TCP), terminates it (intercept) or refuses it with the clearest
 * error the protocol allows (403 for plaintext HTTP, a TLS alert for TLS, a close otherwise).
 */
public final class ConnectionRouter {
  private static final Logger LOG = Logger.getLogger(ConnectionRouter.class.getName());

  private final PolicySource policies;
  private final AgentTlsContexts agentTls;
  private final UpstreamDialer dialer;
  private final HttpInterceptor http;
  private final AuditRecorder audit;
  private final Placeholders placeholders;

  public ConnectionRouter(
      PolicySource policies,
      AgentTlsContexts agentTls,
      UpstreamDialer dialer,
      HttpInterceptor http,
      AuditRecorder audit) {
    this(policies, agentTls, dialer, http, audit, Placeholders.none());
  }

  /**
   * @param placeholders the pod's placeholder credentials: never accepted in a server name
   */
  public ConnectionRouter(
      PolicySource policies,
      AgentTlsContexts agentTls,
      UpstreamDialer dialer,
      HttpInterceptor http,
      AuditRecorder audit,
      Placeholders placeholders) {
    this.policies = policies;
    this.agentTls = agentTls;
    this.dialer = dialer;
    this.http = http;
    this.audit = audit;
    this.placeholders = placeholders;
  }

  /** Called by the sniffer on the event loop, with reads paused. */
  public void route(
      ChannelHandlerContext sniffer,
      String connectionId,
      InetSocketAddress destination,
      Sniffed sniffed) {
    Channel agent = sniffer.channel();
    Optional<Policy> policy = policies.current();
    ConnectionVerdict verdict =
        policy
            .map(p -> p.onConnection(sniffed.serverName(), destination, sniffed.kind()))
            .orElseGet(
                () ->
                    new ConnectionVerdict(
                        ConnectionAction.DENY, null, "no valid policy: " + policies.problem()));
    PlaceholderLeak leak =
        placeholders.isEmpty() ? null : placeholderLeak(sniffer, sniffed, verdict);
    if (leak != null) {
      verdict =
          new ConnectionVerdict(
              ConnectionAction.DENY,
              verdict.rule(),
              leak.auditReason(placeholders.redact(sniffed.serverName())));
      audit.placeholderLeak(leak.credential());
      LOG.warning("connection " + connectionId + ": " + verdict.reason());
    }
    AgentConnection connection =
        new AgentConnection(
            connectionId,
            (InetSocketAddress) agent.remoteAddress(),
            destination,
            sniffed.kind(),
            leak == null ? sniffed.serverName() : placeholders.redact(sniffed.serverName()),
            verdict.rule(),
            System.nanoTime());
    audit.connectionRouted(verdict.action(), verdict.rule());
    switch (verdict.action()) {
      case DENY -> deny(sniffer, connection, sniffed, verdict, leak);
      case TCP ->
          splice(
              sniffer,
              connection,
              verdict,
              dialer.dialAddress(agent.eventLoop(), destination, noHandlers()));
      case PASSTHROUGH -> {
        if (sniffed.serverName() == null) {
          deny(
              sniffer,
              connection,
              sniffed,
              new ConnectionVerdict(
                  ConnectionAction.DENY, verdict.rule(), "passthrough needs a server name"),
              null);
          return;
        }
        // The name policy approved, resolved by us (hostAliases + DNS, never the pod's /etc/hosts),
        // at the port the agent asked for; the agent's address only if we resolved it too.
        splice(
            sniffer,
            connection,
            verdict,
            dialer.dialHost(
                agent.eventLoop(),
                sniffed.serverName(),
                destination.getPort(),
                destination.getAddress(),
                noHandlers()));
      }
      case INTERCEPT -> intercept(sniffer, connection, sniffed);
    }
  }

  private void intercept(
      ChannelHandlerContext sniffer, AgentConnection connection, Sniffed sniffed) {
    Channel agent = sniffer.channel();
    if (sniffed.kind() == ConnectionKind.PLAINTEXT_HTTP) {
      http.install(agent, connection, null);
      resume(sniffer);
      return;
    }
    if (sniffed.kind() != ConnectionKind.TLS || sniffed.serverName() == null) {
      // Policy intercepts only what it can name; anything else reaching here is a policy bug:
      // refuse.
      agent.close();
      return;
    }
    agentTls
        .forHost(sniffed.serverName())
        .whenComplete(
            (context, failure) ->
                agent
                    .eventLoop()
                    .execute(
                        () -> {
                          if (!agent.isActive()) {
                            return;
                          }
                          if (failure != null) {
                            LOG.log(
                                Level.WARNING,
                                "no leaf for "
                                    + sniffed.serverName()
                                    + ": "
                                    + failure.getMessage());
                            agent
                                .writeAndFlush(TlsAlerts.internalError())
                                .addListener(ChannelFutureListener.CLOSE);
                            return;
                          }
                          http.install(agent, connection, context);
                          resume(sniffer);
                        }));
  }

  private void splice(
      ChannelHandlerContext sniffer,
      AgentConnection connection,
      ConnectionVerdict verdict,
      Future<Channel> dial) {
    Channel agent = sniffer.channel();
    dial.addListener(
        f -> {
          if (!f.isSuccess()) {
            LOG.log(Level.INFO, "connection " + connection.id() + ": " + f.cause().getMessage());
            record(
                connection,
                spliceProtocol(verdict),
                Decision.ERROR,
                verdict.rule(),
                "upstream unreachable: " + f.cause().getMessage());
            agent.close();
            return;
          }
          Channel upstream = (Channel) f.getNow();
          if (!agent.isActive()) {
            upstream.close();
            return;
          }
          record(
              connection,
              spliceProtocol(verdict),
              verdict.wouldDeny() ? Decision.WOULD_DENY : Decision.ALLOW,
              verdict.rule(),
              verdict.wouldDeny() ? verdict.reason() : allowReason(connection, verdict, upstream));
          TcpRelay.splice(agent, upstream);
          ConnectionSniffer.handOver(sniffer);
        });
  }

  /**
   * {@code passthrough}, {@code tcp}; for a passthrough whose agent dialled an address the sidecar
   * did not resolve the name to (a rewritten /etc/hosts, curl --resolve, a hard-coded IP), {@code
   * passthrough-destination-mismatch: ...} with both addresses: the splice went where the sidecar
   * resolved, and the attempt is on record.
   */
  private String allowReason(
      AgentConnection connection, ConnectionVerdict verdict, Channel upstream) {
    String action = verdict.action().name().toLowerCase();
    if (verdict.action() != ConnectionAction.PASSTHROUGH
        || dialer.viaProxy()
        || !(upstream.remoteAddress() instanceof InetSocketAddress dialled)) {
      return action;
    }
    java.net.InetAddress asked = UpstreamDialer.unmapped(connection.destination().getAddress());
    java.net.InetAddress went = UpstreamDialer.unmapped(dialled.getAddress());
    if (asked.equals(went)) {
      return action;
    }
    return "passthrough-destination-mismatch: the agent dialled "
        + asked.getHostAddress()
        + ", the sidecar resolved "
        + connection.serverName()
        + " to "
        + went.getHostAddress()
        + " and spliced there";
  }

  /**
   * A placeholder in the server name (TLS SNI, plaintext Host) is never allowed; in a plaintext
   * request that policy refuses anyway, it turns the refusal into a likely exfiltration attempt.
   */
  private PlaceholderLeak placeholderLeak(
      ChannelHandlerContext sniffer, Sniffed sniffed, ConnectionVerdict verdict) {
    if (sniffed.serverName() != null) {
      Placeholders.Match m = placeholders.find(sniffed.serverName());
      if (m != null) {
        return new PlaceholderLeak(
            m.credential(),
            sniffed.kind() == ConnectionKind.TLS ? "the TLS server name (SNI)" : "the Host header");
      }
    }
    if (verdict.action() == ConnectionAction.DENY
        && sniffed.kind() == ConnectionKind.PLAINTEXT_HTTP) {
      Placeholders.Match m = placeholders.find(ConnectionSniffer.bufferedText(sniffer));
      if (m != null) {
        return new PlaceholderLeak(m.credential(), "a plaintext request to a host no rule allows");
      }
    }
    return null;
  }

  private void deny(
      ChannelHandlerContext sniffer,
      AgentConnection connection,
      Sniffed sniffed,
      ConnectionVerdict verdict,
      PlaceholderLeak leak) {
    Channel agent = sniffer.channel();
    String path = sniffed.target() == null ? null : stripQuery(sniffed.target());
    record(
        connection,
        protocolOf(sniffed.kind()),
        Decision.DENY,
        verdict.rule(),
        verdict.reason(),
        sniffed.method(),
        path);
    switch (sniffed.kind()) {
      case TLS ->
          agent.writeAndFlush(TlsAlerts.accessDenied()).addListener(ChannelFutureListener.CLOSE);
      case PLAINTEXT_HTTP -> {
        String body =
            leak != null
                ? Denial.json(
                    Problem.placeholder(leak.credential() != null),
                    leak.error(),
                    connection.serverName(),
                    sniffed.method(),
                    path,
                    verdict.rule(),
                    connection.id(),
                    leak.detail())
                : Denial.json(
                    policies.current().isEmpty() ? Problem.NO_VALID_POLICY : Problem.DENIED,
                    verdict.reason(),
                    sniffed.serverName(),
                    sniffed.method(),
                    path,
                    verdict.rule(),
                    connection.id());
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head =
            "HTTP/1.1 403 Forbidden\r\ncontent-type: "
                + Denial.CONTENT_TYPE
                + "\r\ncontent-length: "
                + bytes.length
                + "\r\nconnection: close\r\n\r\n";
        agent.write(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
        agent.writeAndFlush(Unpooled.wrappedBuffer(bytes)).addListener(ChannelFutureListener.CLOSE);
      }
      default -> agent.close();
    }
  }

  /** The audit line's protocol of a splice: what the sidecar relays, not what it may carry. */
  private static String spliceProtocol(ConnectionVerdict verdict) {
    return verdict.action() == ConnectionAction.PASSTHROUGH ? "tls" : "tcp";
  }

  /** The audit line's protocol of a connection refused as a whole, as the peek saw it. */
  private static String protocolOf(ConnectionKind kind) {
    return switch (kind) {
      case TLS -> "tls";
      case PLAINTEXT_HTTP -> "http/1.1";
      case OTHER -> "tcp";
    };
  }

  private void record(
      AgentConnection c, String protocol, Decision decision, String rule, String reason) {
    record(c, protocol, decision, rule, reason, null, null);
  }

  private void record(
      AgentConnection c,
      String protocol,
      Decision decision,
      String rule,
      String reason,
      String method,
      String path) {
    String host =
        c.serverName() != null ? c.serverName() : c.destination().getAddress().getHostAddress();
    audit.record(
        AuditEvent.connection(
            c.id(),
            policies.current().map(Policy::session).orElse(null),
            host,
            method,
            path,
            rule,
            decision,
            (System.nanoTime() - c.acceptedNanos()) / 1000,
            reason,
            Flow.of(protocol, c.destination())));
  }

  private static void resume(ChannelHandlerContext sniffer) {
    Channel agent = sniffer.channel();
    ConnectionSniffer.handOver(sniffer);
    agent.config().setAutoRead(true);
  }

  private static String stripQuery(String target) {
    int q = target.indexOf('?');
    return q < 0 ? target : target.substring(0, q);
  }

  private static ChannelInitializer<Channel> noHandlers() {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Channel ch) {
        // the relay is added once both sides are connected
      }
    };
  }
}
