package dev.capgate.sidecar.http;

import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.sidecar.audit.AuditEvent;
import dev.capgate.sidecar.audit.Denial;
import dev.capgate.sidecar.credentials.CredentialInjector;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.InjectedHeader;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.intercept.AgentConnection;
import dev.capgate.sidecar.intercept.UpstreamDialer;
import dev.capgate.sidecar.policy.NormalizedRequest;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.RawRequest;
import dev.capgate.sidecar.policy.RejectedRequestException;
import dev.capgate.sidecar.policy.RequestNormalizer;
import dev.capgate.sidecar.policy.RequestVerdict;
import dev.capgate.sidecar.policy.SessionIdentity;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One request and its response. Order of business: normalize (400 if ambiguous), ask policy
 * (403 if denied), resolve the credential (503 if unavailable), connect to the approved host
 * (502 if unreachable), forward exactly the normalized request with the credential injected, then
 * stream the response back with the credential masked out of it. Bodies stream both ways with
 * back-pressure; nothing is buffered whole.
 */
final class Exchange {
  private static final Logger LOG = Logger.getLogger(Exchange.class.getName());

  private final ExchangeHandler owner;
  private final ChannelHandlerContext agent;
  private final HttpServices services;
  private final AgentConnection connection;
  private final HttpRequest request;
  private final boolean http2;
  private final String id;
  private final long startNanos = System.nanoTime();

  private RawRequest raw;
  private NormalizedRequest normalized;
  private String rule;
  private List<String> credentialNames = List.of();
  private SessionIdentity session;
  private String decision = "error";
  private String reason;
  private Integer upstreamStatus;

  private boolean requestComplete;
  private boolean requestHasBody;
  private boolean respondedLocally;
  private boolean responseStarted;
  private boolean responseComplete;
  private boolean skippingInformational;
  private boolean closeAfter;
  private boolean upstreamKeepAlive;
  private boolean finished;
  private final List<HttpContent> pendingBody = new ArrayList<>(2);
  private UpstreamLink upstream;
  private SecretScrubber scrubber;
  private ChannelFuture lastWrite;

  Exchange(ExchangeHandler owner, ChannelHandlerContext agent, HttpServices services, AgentConnection connection,
      HttpRequest request) {
    this.owner = owner;
    this.agent = agent;
    this.services = services;
    this.connection = connection;
    this.request = request;
    this.http2 = owner.http2();
    this.id = services.requestIds().next();
  }

  boolean requestComplete() {
    return requestComplete;
  }

  /** Whether agent body bytes can be taken now (see {@link ExchangeHandler#updateReads}). */
  boolean readyForBody() {
    return requestComplete || respondedLocally || (upstream != null && upstream.channel().isWritable());
  }

  ChannelFuture lastWrite() {
    return lastWrite != null ? lastWrite : agent.newSucceededFuture();
  }

  // ---------------------------------------------------------------- request head: decide

  void start() {
    closeAfter = !http2 && !HttpUtil.isKeepAlive(request);
    if (request.decoderResult().isFailure()) {
      reject("malformed-request");
      takeContentOfFullRequest();
      return;
    }
    raw = http2 ? agent.channel().attr(H2RequestCapture.RAW).get() : rawOf(request);
    requestHasBody = http2 ? !(request instanceof FullHttpRequest) || ((FullHttpRequest) request).content().isReadable()
        : HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
    try {
      normalized = RequestNormalizer.normalize(raw, connection.tls() ? connection.serverName() : null,
          connection.destination().getPort());
    } catch (RejectedRequestException e) {
      reject(e.reason());
      takeContentOfFullRequest();
      return;
    }
    Optional<Policy> policy = services.policies().current();
    if (policy.isEmpty()) {
      deny(null, "no valid policy: " + services.policies().problem());
      takeContentOfFullRequest();
      return;
    }
    session = policy.get().session();
    RequestVerdict verdict = policy.get().onRequest(normalized);
    rule = verdict.rule();
    if (!verdict.allowed()) {
      deny(verdict.rule(), verdict.reason());
      takeContentOfFullRequest();
      return;
    }
    decision = "allow";
    reason = verdict.reason();
    credentialNames = verdict.credentials();
    takeContentOfFullRequest();
    if (credentialNames.isEmpty()) {
      connect(List.of());
      return;
    }
    List<Credential> credentials = new ArrayList<>(credentialNames.size());
    for (String name : credentialNames) {
      Optional<Credential> credential = policy.get().credential(name);
      if (credential.isEmpty()) {
        credentialUnavailable(new CredentialUnavailableException(name, "not declared in the session"));
        return;
      }
      credentials.add(credential.get());
    }
    services.credentials().resolveAll(credentials, session).whenComplete((values, failure) ->
        agent.executor().execute(() -> onCredentials(credentials, values, failure)));
  }

  /** HTTP/2 requests without body arrive whole; their (empty) content ends the request. */
  private void takeContentOfFullRequest() {
    if (request instanceof FullHttpRequest full) {
      HttpContent body = new DefaultLastHttpContent(full.content().retain(), full.trailingHeaders());
      ReferenceCountUtil.release(full);
      onRequestContent(body);
    }
  }

  private static RawRequest rawOf(HttpRequest request) {
    return new RawRequest(request.method().name(), request.uri(), null,
        request.headers().getAll(HttpHeaderNames.HOST),
        request.headers().getAll(HttpHeaderNames.CONTENT_LENGTH),
        request.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING), false);
  }

  private void onCredentials(List<Credential> credentials, List<SecretValue> values, Throwable failure) {
    if (finished || !agent.channel().isActive()) {
      return;
    }
    if (failure != null) {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      credentialUnavailable(cause instanceof CredentialUnavailableException e ? e
          : new CredentialUnavailableException(String.join(",", credentialNames), "resolver failed"));
      return;
    }
    List<InjectedHeader> injected = new ArrayList<>(credentials.size());
    List<String> secrets = new ArrayList<>();
    try {
      for (int i = 0; i < credentials.size(); i++) {
        InjectedHeader header = CredentialInjector.render(credentials.get(i).inject(), values.get(i));
        injected.add(header);
        secrets.addAll(SecretScrubber.secretsOf(values.get(i).reveal(), header.value()));
      }
    } catch (CredentialUnavailableException e) {
      credentialUnavailable(e);
      return;
    }
    scrubber = new SecretScrubber(secrets);
    connect(injected);
  }

  // ---------------------------------------------------------------- upstream

  private void connect(List<InjectedHeader> injected) {
    String host = normalized.host();
    int port = normalized.port();
    boolean tls = connection.tls();
    UpstreamLink reused = owner.takeIdleUpstream(host, port, tls);
    if (reused != null) {
      send(reused, injected);
      return;
    }
    UpstreamLink link = new UpstreamLink(host, port, tls);
    Future<Channel> dial = services.dialer().dialHost(agent.channel().eventLoop(), host, port,
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            if (tls) {
              ch.pipeline().addLast("tls", services.upstreamTls().newHandler(ch.alloc(), host, port));
            }
            // Neither read nor written for this long: a long upload or a slow but streaming answer
            // keeps it alive; silence does not (504 before the response, a cut after).
            ch.pipeline().addLast("timeout", new IdleStateHandler(0, 0, services.upstreamTimeout().toSeconds(),
                java.util.concurrent.TimeUnit.SECONDS) {
              @Override
              protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
                ctx.fireExceptionCaught(ReadTimeoutException.INSTANCE);
              }
            });
            ch.pipeline().addLast("http", new HttpClientCodec(new HttpDecoderConfig().setMaxChunkSize(64 * 1024),
                HttpClientCodec.DEFAULT_PARSE_HTTP_AFTER_CONNECT_REQUEST, HttpClientCodec.DEFAULT_FAIL_ON_MISSING_RESPONSE));
            ch.pipeline().addLast("link", link);
          }
        });
    dial.addListener(f -> {
      if (!f.isSuccess()) {
        upstreamFailed("upstream-unreachable", f.cause());
        return;
      }
      Channel ch = (Channel) f.getNow();
      if (finished || !agent.channel().isActive()) {
        ch.close();
        return;
      }
      SslHandler tlsHandler = ch.pipeline().get(SslHandler.class);
      if (tlsHandler == null) {
        send(link, injected);
        return;
      }
      ch.config().setAutoRead(true); // the handshake needs reads
      tlsHandler.handshakeFuture().addListener(h -> {
        if (!h.isSuccess()) {
          ch.close();
          upstreamFailed("upstream-tls-failed", h.cause());
        } else if (finished || !agent.channel().isActive()) {
          ch.close();
        } else {
          send(link, injected);
        }
      });
    });
  }

  private void send(UpstreamLink link, List<InjectedHeader> injected) {
    upstream = link;
    link.attach(this);
    Channel ch = link.channel();
    ch.write(upstreamRequest(injected));
    if (!http2 && HttpUtil.is100ContinueExpected(request) && !requestComplete) {
      // Expect is not forwarded: the agent hears "continue" from us once the request is allowed.
      agent.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    for (HttpContent content : pendingBody) {
      ch.write(content);
    }
    pendingBody.clear();
    ch.flush();
    ch.config().setAutoRead(true);
    owner.updateReads();
  }

  /** Exactly the normalized request: normalized target, Host = normalized host, credential injected. */
  private HttpRequest upstreamRequest(List<InjectedHeader> injected) {
    HttpRequest out = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(normalized.method()),
        normalized.target());
    HopByHop.copyEndToEnd(request.headers(), out.headers());
    int defaultPort = connection.tls() ? 443 : 80;
    out.headers().set(HttpHeaderNames.HOST,
        normalized.port() == defaultPort ? normalized.host() : normalized.host() + ":" + normalized.port());
    for (InjectedHeader header : injected) {
      out.headers().remove(header.name()); // every agent-sent header of that name, any case (invariant 6)
      out.headers().set(header.name(), header.value());
      // So that a response echoing the credential can be scrubbed: compressed, it could not be.
      out.headers().set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
    }
    List<String> contentLength = raw.contentLength() == null ? List.of() : raw.contentLength();
    if (!contentLength.isEmpty()) {
      out.headers().set(HttpHeaderNames.CONTENT_LENGTH, contentLength.getFirst().strip());
    } else if (requestHasBody) {
      HttpUtil.setTransferEncodingChunked(out, true);
    }
    return out;
  }

  // ---------------------------------------------------------------- request body

  void onRequestContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (respondedLocally || finished) {
      content.release(); // the body of a request we refused: read and dropped
    } else if (upstream == null) {
      pendingBody.add(content);
    } else {
      // Flushed once per agent read burst (flushUpstream), not per chunk: fewer syscalls and TLS records.
      upstream.channel().write(content);
      if (last) {
        upstream.channel().flush();
      }
    }
    if (last) {
      requestComplete = true;
      maybeFinish();
    }
  }

  void onUpstreamWritabilityChanged(boolean writable) {
    owner.updateReads();
  }

  // ---------------------------------------------------------------- response

  void onUpstreamMessage(Object msg) {
    if (finished || respondedLocally) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse response) {
      if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        skippingInformational = true; // 100/103 from upstream: the agent already got its "continue" from us
      } else {
        startResponse(response);
      }
    }
    if (msg instanceof HttpContent content) {
      if (skippingInformational) {
        skippingInformational = !(content instanceof LastHttpContent);
        content.release();
        return;
      }
      relayContent(content);
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  private void startResponse(HttpResponse response) {
    upstreamStatus = response.status().code();
    upstreamKeepAlive = HttpUtil.isKeepAlive(response);
    HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status());
    HopByHop.copyEndToEnd(response.headers(), out.headers());
    String length = response.headers().get(HttpHeaderNames.CONTENT_LENGTH);
    if (length != null) {
      out.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
    } else if (!http2 && mayHaveBody(response)) {
      HttpUtil.setTransferEncodingChunked(out, true);
    }
    if (scrubber != null) {
      scrubber.scrub(out.headers());
    }
    if (closeAfter && !http2) {
      out.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    responseStarted = true;
    lastWrite = agent.write(out);
  }

  private boolean mayHaveBody(HttpResponse response) {
    int code = response.status().code();
    return !"HEAD".equals(request.method().name()) && code != 204 && code != 304;
  }

  private void relayContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    HttpContent out;
    if (scrubber != null) {
      ByteBuf masked = scrubber.scrub(content.content().retain(), last);
      out = last ? new DefaultLastHttpContent(masked, ((LastHttpContent) content).trailingHeaders().copy())
          : new DefaultHttpContent(masked);
      if (last) {
        scrubber.scrub(((LastHttpContent) out).trailingHeaders());
      }
      content.release();
    } else {
      out = content;
    }
    // Flushed once per upstream read burst (flushAgent) or at the end, not per chunk.
    lastWrite = last ? agent.writeAndFlush(out) : agent.write(out);
    if (!agent.channel().isWritable() && upstream != null) {
      upstream.channel().config().setAutoRead(false); // resumed by onAgentWritabilityChanged
    }
    if (last) {
      responseComplete = true;
      maybeFinish();
    }
  }

  /** The upstream delivered what it had for now: send it on to the agent. */
  void flushAgent() {
    if (responseStarted && !respondedLocally) {
      agent.flush();
    }
  }

  /** The agent delivered what it had for now: send it on to the upstream. */
  void flushUpstream() {
    if (upstream != null) {
      upstream.channel().flush();
    }
  }

  void onAgentWritabilityChanged(boolean writable) {
    if (upstream != null && responseStarted && !responseComplete) {
      upstream.channel().config().setAutoRead(writable);
    }
    owner.updateReads();
  }

  void onUpstreamClosed(Throwable cause) {
    UpstreamLink link = upstream;
    upstream = null;
    if (link != null) {
      link.detach();
    }
    if (finished || responseComplete || respondedLocally) {
      return;
    }
    if (!responseStarted) {
      upstreamFailed(cause instanceof ReadTimeoutException ? "upstream-timeout" : "upstream-closed", cause);
      return;
    }
    // Mid-response: the agent must see a broken response, never a silently truncated one.
    reason = "upstream closed mid-response";
    decision = "error";
    closeAfter = true;
    finish();
  }

  void onAgentClosed() {
    if (finished) {
      return;
    }
    if (!responseComplete) {
      decision = "error";
      reason = "agent closed the connection";
    }
    closeAfter = true;
    finish();
  }

  // ---------------------------------------------------------------- local answers

  private void reject(String why) {
    decision = "deny";
    reason = why;
    closeAfter = true; // framing or host may be ambiguous: nothing after this request can be trusted
    respond(HttpResponseStatus.BAD_REQUEST, Denial.json(why, hostForAnswer(), request.method().name(),
        pathForAnswer(), null, id));
  }

  private void deny(String denyingRule, String why) {
    decision = "deny";
    reason = why;
    respond(HttpResponseStatus.FORBIDDEN, Denial.json(why, hostForAnswer(), request.method().name(),
        pathForAnswer(), denyingRule, id));
  }

  private void credentialUnavailable(CredentialUnavailableException e) {
    decision = "error";
    reason = e.getMessage(); // names the credential, never the value
    respond(HttpResponseStatus.SERVICE_UNAVAILABLE, Denial.json("credential unavailable: " + e.credential(),
        hostForAnswer(), request.method().name(), pathForAnswer(), rule, id));
  }

  private void upstreamFailed(String why, Throwable cause) {
    if (finished || respondedLocally || responseStarted) {
      return;
    }
    LOG.log(Level.INFO, "request " + id + " to " + normalized.host() + ": " + why
        + (cause == null ? "" : " (" + cause.getMessage() + ")"));
    decision = "error";
    reason = why;
    HttpResponseStatus status = "upstream-timeout".equals(why)
        ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.BAD_GATEWAY;
    respond(status, Denial.json(why, hostForAnswer(), request.method().name(), pathForAnswer(), rule, id));
  }

  private void respond(HttpResponseStatus status, String json) {
    respondedLocally = true;
    releasePendingBody();
    if (upstream != null) {
      upstream.close();
      upstream = null;
    }
    if (!requestComplete && requestHasBody) {
      // We will not forward that body: rather than read it all, end the connection (HTTP/2: reset
      // the stream) after the answer.
      closeAfter = true;
    }
    responseStarted = true;
    responseComplete = true;
    lastWrite = agent.writeAndFlush(JsonResponses.of(status, json, closeAfter && !http2));
    if (closeAfter) {
      finish();
    } else {
      maybeFinish();
    }
  }

  private String hostForAnswer() {
    return normalized != null ? normalized.host() : connection.serverName();
  }

  private String pathForAnswer() {
    if (normalized != null) {
      return normalized.path();
    }
    String uri = request.uri();
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  // ---------------------------------------------------------------- the end

  private void maybeFinish() {
    if (requestComplete && responseComplete) {
      finish();
    }
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    releasePendingBody();
    long micros = (System.nanoTime() - startNanos) / 1000;
    audit(micros);
    UpstreamLink reusable = null;
    if (upstream != null) {
      if (responseComplete && requestComplete && upstreamKeepAlive && !closeAfter) {
        reusable = upstream;
      } else {
        upstream.close();
      }
      upstream = null;
    }
    owner.exchangeFinished(this, !closeAfter, reusable);
  }

  private void audit(long micros) {
    SessionIdentity s = session != null ? session
        : services.policies().current().map(Policy::session).orElse(null);
    services.audit().record(new AuditEvent(id, s == null ? null : s.name(), s == null ? null : s.namespace(),
        s == null ? null : s.user(), s == null ? null : s.agent(), hostForAnswer(), request.method().name(),
        pathForAnswer(), rule, decision, credentialNames.isEmpty() ? null : String.join(",", credentialNames),
        upstreamStatus, micros, reason));
    services.metrics().increment("capgate_decisions_total", "Policy decisions by rule and outcome",
        "rule", rule == null ? "none" : rule, "outcome", decision, "level", "request");
    services.metrics().observe("capgate_request_duration_seconds", "Request latency through the sidecar",
        micros / 1e6, "outcome", decision);
  }

  private void releasePendingBody() {
    for (HttpContent c : pendingBody) {
      c.release();
    }
    pendingBody.clear();
  }
}
