package dev.capgate.sidecar.http;

import dev.capgate.sidecar.audit.AuditEvent;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.tls.PlaintextAlerts;
import dev.capgate.sidecar.tls.TlsFailures;
import dev.capgate.sidecar.upstream.H2Upstreams;
import dev.capgate.sidecar.upstream.IdleUpstreams;
import dev.capgate.sidecar.upstream.UpstreamConnector;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Terminates an intercepted agent connection: TLS with the leaf for its SNI host (ALPN h2 or
 * http/1.1), or plaintext HTTP/1.1. HTTP/2 streams each get their own child channel and their own
 * {@link ExchangeHandler}, so a denied stream is answered on that stream alone.
 */
public final class HttpTermination implements HttpInterceptor {
  private static final Logger LOG = Logger.getLogger(HttpTermination.class.getName());
  private static final long TLS_HANDSHAKE_TIMEOUT_SECONDS = 10;

  private final HttpServices services;
  private final UpstreamConnector upstreams;
  private final Admission admission;

  /**
   * Each event loop's idle upstream connections, shared by the HTTP/1.1 agent connections on it.
   */
  private final Map<EventLoop, IdleUpstreams> idleUpstreamsByLoop = new ConcurrentHashMap<>();

  public HttpTermination(HttpServices services) {
    this.services = services;
    this.admission = new Admission(services);
    this.upstreams =
        new UpstreamConnector(
            services.dialer(), services.upstreamTls(), services.upstreamTimeout());
  }

  @Override
  public void install(Channel agent, AgentConnection connection, SslContext agentTls) {
    IdleClose idle = new IdleClose(services.agentIdleTimeout(), services.activity());
    agent.pipeline().addLast("idle", idle);
    if (agentTls == null) {
      installHttp1(agent, connection, idle);
      return;
    }
    SslHandler tls = agentTls.newHandler(agent.alloc());
    tls.setHandshakeTimeout(TLS_HANDSHAKE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    PlaintextAlerts alerts = new PlaintextAlerts();
    agent.pipeline().addLast("tls-alerts", alerts);
    agent.pipeline().addLast("tls", tls);
    // Sees every outcome of the handshake (the ALPN handler below does not report a peer that hangs
    // up).
    agent
        .pipeline()
        .addLast(
            "tls-outcome",
            new ChannelInboundHandlerAdapter() {
              @Override
              public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                if (event instanceof SslHandshakeCompletionEvent done) {
                  if (!done.isSuccess()) {
                    auditAgentHandshakeFailure(connection, done.cause(), alerts.alert());
                  } else if (ctx.pipeline().context(alerts) != null) {
                    // The SslHandler sends this event towards the tail only: "tls-alerts", in front
                    // of it, never sees it, and stayed to scan every read of the connection.
                    ctx.pipeline().remove(alerts);
                  }
                  ctx.pipeline().remove(this);
                }
                ctx.fireUserEventTriggered(event);
              }
            });
    agent
        .pipeline()
        .addLast(
            "alpn",
            new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
              @Override
              protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                  installHttp2(ctx.channel(), connection, idle);
                } else {
                  installHttp1(ctx.channel(), connection, idle);
                }
              }

              @Override
              protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close(); // audited by "tls-outcome"
              }
            });
  }

  /**
   * The agent gave up on the TLS handshake with the pod CA's leaf: an agent that does not trust the
   * pod CA (trust variables not used) or that pins the host's certificate. Audited as {@code
   * agent-rejected-pod-ca} with the host, so that an operator sees which host needs {@code tls:
   * passthrough} (or which client ignores the CA bundle).
   */
  private void auditAgentHandshakeFailure(
      AgentConnection connection, Throwable cause, String plaintextAlert) {
    String alert = plaintextAlert != null ? plaintextAlert : TlsFailures.receivedAlert(cause);
    String host = connection.serverName();
    String reason;
    if (alert != null && REJECTION_ALERTS.contains(alert)) {
      reason =
          "agent-rejected-pod-ca: the agent refused the certificate the sidecar presented for "
              + host
              + " (alert "
              + alert
              + "): it does not trust the pod CA, or it pins the host's own certificate;"
              + " a pinning client needs tls: passthrough for this host";
    } else if (alert == null && TlsFailures.closedDuringHandshake(cause)) {
      reason =
          "agent-rejected-pod-ca: the agent closed the connection during the handshake, after the sidecar"
              + " presented its certificate for "
              + host
              + " (typical of certificate pinning); a pinning client needs"
              + " tls: passthrough for this host";
    } else if (cause instanceof io.netty.handler.ssl.SslHandshakeTimeoutException) {
      reason =
          "agent-tls-handshake-timeout: the agent did not complete the TLS handshake for " + host;
    } else {
      reason =
          "agent-tls-handshake-failed: "
              + (alert != null ? "alert " + alert : TlsFailures.chain(cause));
    }
    LOG.info("connection " + connection.id() + ": " + reason);
    SessionIdentity s = services.policies().current().map(Policy::session).orElse(null);
    services
        .audit()
        .record(
            AuditEvent.tlsFailure(
                connection.id(),
                s,
                host,
                connection.rule(),
                (System.nanoTime() - connection.acceptedNanos()) / 1000,
                reason,
                connection.destination()));
  }

  private static final java.util.Set<String> REJECTION_ALERTS =
      java.util.Set.of(
          "unknown_ca",
          "bad_certificate",
          "certificate_unknown",
          "unsupported_certificate",
          "certificate_revoked",
          "certificate_expired",
          "access_denied",
          "decrypt_error");

  private void installHttp1(Channel agent, AgentConnection connection, IdleClose idle) {
    AgentHttp1Codec codec = new AgentHttp1Codec();
    agent.pipeline().addLast("http1", codec);
    agent
        .pipeline()
        .addLast(
            "exchanges",
            new ExchangeHandler(
                services,
                connection,
                codec,
                idleUpstreams(agent),
                null, // gRPC needs HTTP/2 from the agent: no call on this connection
                upstreams,
                admission,
                idle));
  }

  /** The idle upstream connections of the agent connection's event loop. */
  private IdleUpstreams idleUpstreams(Channel agent) {
    return idleUpstreamsByLoop.computeIfAbsent(
        agent.eventLoop(),
        loop -> {
          IdleUpstreams pool = new IdleUpstreams(IdleUpstreams.CAPACITY);
          loop.scheduleAtFixedRate(pool::closeStale, 1, 1, TimeUnit.SECONDS);
          return pool;
        });
  }

  /**
   * Netty's HTTP/2 stream frames ⇄ HTTP/1 objects conversion, server side. Sharable (its state is
   * in channel attributes): one for every stream, instead of a codec and its inner encoder and
   * decoder per stream (issue 13).
   */
  private static final Http2StreamFrameToHttpObjectCodec H2_TO_HTTP1 =
      new Http2StreamFrameToHttpObjectCodec(true);

  /** Package-private for the in-memory HTTP/2 tests. */
  void installHttp2(Channel agent, AgentConnection connection, IdleClose idle) {
    IdleUpstreams idleUpstreams = idleUpstreams(agent);
    // The gRPC calls of this connection share its upstream HTTP/2 connections, closed with it.
    H2Upstreams h2Upstreams = new H2Upstreams();
    RefusedStreams refusals = new RefusedStreams(services, connection);
    agent.closeFuture().addListener(f -> h2Upstreams.closeAll());
    agent
        .pipeline()
        .addLast(
            "h2",
            H2ServerCodec.create(
                Http2Settings.defaultSettings()
                    .maxConcurrentStreams(128)
                    .maxHeaderListSize(32 * 1024),
                refusals));
    agent
        .pipeline()
        .addLast(
            "h2-streams",
            new Http2MultiplexHandler(
                new ChannelInitializer<Http2StreamChannel>() {
                  @Override
                  protected void initChannel(Http2StreamChannel stream) {
                    stream.pipeline().addLast("capture", new H2RequestCapture(refusals));
                    stream.pipeline().addLast("h2-to-http1", H2_TO_HTTP1);
                    stream
                        .pipeline()
                        .addLast(
                            "exchange",
                            new ExchangeHandler(
                                services,
                                connection,
                                null,
                                idleUpstreams,
                                h2Upstreams,
                                upstreams,
                                admission,
                                idle));
                  }
                }));
    // Protocol errors are answered by the codec (GOAWAY or RST_STREAM with the spec's code) and
    // then
    // passed on: ending them here keeps an agent from flooding the log with Netty's
    // "reached the tail of the pipeline" warnings.
    agent
        .pipeline()
        .addLast(
            "h2-errors",
            new ChannelInboundHandlerAdapter() {
              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                LOG.fine("connection " + connection.id() + ": HTTP/2 error: " + cause);
                if (!(cause instanceof Http2Exception)) {
                  ctx.close();
                }
              }
            });
  }
}
