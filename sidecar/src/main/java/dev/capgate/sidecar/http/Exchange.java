package dev.capgate.sidecar.http;

import dev.capgate.sidecar.audit.AuditEvent;
import dev.capgate.sidecar.audit.Decision;
import dev.capgate.sidecar.audit.Denial;
import dev.capgate.sidecar.credentials.InjectedHeader;
import dev.capgate.sidecar.credentials.PlaceholderLeak;
import dev.capgate.sidecar.policy.NormalizedRequest;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.RawRequest;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.tls.TlsFailures;
import dev.capgate.sidecar.upstream.UpstreamConnector;
import dev.capgate.sidecar.upstream.UpstreamDialer;
import dev.capgate.sidecar.upstream.UpstreamLink;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One request and its response: the streaming relay. {@link Admission} decides on the head
 * (normalize, policy, placeholders, credentials, inject); this class acts on its answer. A local
 * answer is written and the request body dropped. A forward plan gets an upstream link (an idle one
 * of the agent connection, or a new one from {@link UpstreamConnector}; 502/504 if that fails), the
 * normalized request with the credential injected goes out, and the response streams back with
 * every known credential value masked out of it. Bodies stream both ways with back-pressure;
 * nothing is buffered whole. {@link Stage} and {@link Response} say where it stands; {@link
 * #recordOutcome} writes its one audit line when it ends.
 *
 * <p>Placeholder credentials (issue 8): the head is checked by admission, the body chunk by chunk
 * as it streams ({@link PlaceholderGuard}); a placeholder where it may not go is a 403 {@code
 * placeholder-exfiltration}. A WebSocket upgrade request is an ordinary request to policy; when the
 * upstream answers 101 the connection becomes a byte splice both ways.
 */
final class Exchange implements UpstreamLink.Listener {
  private static final Logger LOG = Logger.getLogger(Exchange.class.getName());

  /**
   * Where the answer to the agent stands. Every change goes through {@link #to(Response)}; the
   * allowed moves are listed in {@link #canMoveTo} and nowhere else.
   */
  enum Response {
    /** Nothing sent to the agent yet (admission, connecting, or waiting for the upstream). */
    PENDING,
    /** The upstream sent a 1xx: its (empty) body is skipped, the final response follows. */
    SKIPPING_INFORMATIONAL,
    /** The upstream's response head went to the agent; its body streams. */
    RELAYING,
    /** The upstream's response went to the agent whole (or its 101, before a WebSocket splice). */
    RELAYED,
    /** The sidecar answered (a local answer); nothing of the upstream's reaches the agent. */
    LOCAL;

    boolean canMoveTo(Response next) {
      return switch (this) {
        case PENDING -> next != PENDING;
        case SKIPPING_INFORMATIONAL -> next == PENDING || next == LOCAL;
        case RELAYING -> next == RELAYED;
        case RELAYED, LOCAL -> false;
      };
    }

    boolean started() {
      return this == RELAYING || this == RELAYED || this == LOCAL;
    }

    boolean complete() {
      return this == RELAYED || this == LOCAL;
    }
  }

  /** Where the exchange as a whole stands; it only moves forward ({@link #to(Stage)}). */
  enum Stage {
    /** Normalize, policy, placeholders, credentials ({@link Admission}): nothing sent upstream. */
    ADMITTING,
    /** Allowed: waiting for an upstream link (idle one, or dial and TLS handshake). */
    CONNECTING,
    /** The request head went upstream over {@link #upstream}; body and response stream. */
    FORWARDED,
    /** Request and response are done (or abandoned): audited, connections handed back or closed. */
    FINISHED
  }

  private final ExchangeHandler owner;
  private final ChannelHandlerContext agent;
  private final HttpServices services;
  private final Admission admission;
  private final HttpRequest request;
  private final boolean http2;
  private final String id;
  private final long startNanos = System.nanoTime();
  private final Admission.Head head;

  /** A body follows the head. */
  private final boolean requestHasBody;

  /**
   * A WebSocket upgrade request (HTTP/1.1 only); its connection ends unless the upstream switches.
   */
  private final boolean upgrade;

  private Stage stage = Stage.ADMITTING;
  private Response response = Response.PENDING;

  /** The agent sent the whole request (the last body chunk, or the head of a request without). */
  private boolean requestComplete;

  /** The agent connection ends with this exchange (sticky: once set, never cleared). */
  private boolean closeAfter;

  /** The upstream said its connection may serve another request. */
  private boolean upstreamKeepAlive;

  private NormalizedRequest normalized;
  private String rule;
  private List<String> credentialNames = List.of();
  private SessionIdentity session;
  private Decision decision = Decision.ERROR;
  private String reason;
  private Integer upstreamStatus;

  private final List<HttpContent> pendingBody = new ArrayList<>(2);
  private UpstreamLink upstream;
  private SecretScrubber scrubber;
  private ChannelFuture lastWrite;
  private StreamMatcher bodyScanner;

  /** Credential name → real value, for the placeholders of the rule's credentials (empty: none). */
  private Map<String, String> placeholderValues = Map.of();

  /** The headers the rule injects: never accepted from the agent, in headers or trailers. */
  private List<InjectedHeader> injectedHeaders = List.of();

  /** Names of request trailer fields that were not forwarded (for the audit line). */
  private List<String> droppedTrailers;

  /** When the values injected here must be fetched again (for values derived from them). */
  private java.time.Instant valuesExpireAt;

  /** Decodes a body the upstream compressed although asked not to (null: not encoded). */
  private ResponseDecoding decoding;

  /** The upstream's trailers, once its compressed body has ended (null until then). */
  private HttpHeaders decodedTrailers;

  Exchange(
      ExchangeHandler owner,
      ChannelHandlerContext agent,
      HttpServices services,
      Admission admission,
      AgentConnection connection,
      HttpRequest request) {
    this.owner = owner;
    this.agent = agent;
    this.services = services;
    this.admission = admission;
    this.request = request;
    this.http2 = owner.http2();
    this.id = services.requestIds().next();
    boolean malformed = request.decoderResult().isFailure();
    this.upgrade = !http2 && !malformed && WebSocketUpgrade.isRequest(request);
    this.requestHasBody =
        http2
            ? !(request instanceof FullHttpRequest)
                || ((FullHttpRequest) request).content().isReadable()
            : HttpUtil.isTransferEncodingChunked(request)
                || HttpUtil.getContentLength(request, 0L) > 0;
    this.head =
        new Admission.Head(
            id,
            connection,
            request.method().name(),
            request.uri(),
            malformed
                ? null
                : http2 ? agent.channel().attr(H2RequestCapture.RAW).get() : rawOf(request),
            request.headers(),
            malformed,
            http2 ? agent.channel().attr(H2RequestCapture.PROTOCOL).get() : null,
            requestHasBody);
  }

  private void to(Response next) {
    assert response.canMoveTo(next) : response + " -> " + next;
    response = next;
  }

  private void to(Stage next) {
    assert next.compareTo(stage) > 0 : stage + " -> " + next;
    stage = next;
  }

  private boolean finished() {
    return stage == Stage.FINISHED;
  }

  boolean requestComplete() {
    return requestComplete;
  }

  /** Whether agent body bytes can be taken now (see {@link ExchangeHandler#updateReads}). */
  boolean readyForBody() {
    if (upgrade && !finished()) {
      return false; // nothing is read after an upgrade request until the connection is switched (or
      // closed)
    }
    return requestComplete
        || response == Response.LOCAL
        || (upstream != null && upstream.channel().isWritable());
  }

  ChannelFuture lastWrite() {
    return lastWrite != null ? lastWrite : agent.newSucceededFuture();
  }

  // ---------------------------------------------------------------- request head: decide

  /** The head arrived: admission decides; an allowed request then waits for its credentials. */
  void start() {
    closeAfter = !http2 && !HttpUtil.isKeepAlive(request);
    if (upgrade) {
      closeAfter = true; // unless the upstream switches protocols, the connection ends with it
    }
    Admission.Outcome outcome = admission.decide(head);
    if (outcome instanceof Admission.LocalAnswer answer) {
      answer(answer);
      takeContentOfFullRequest();
      return;
    }
    Admission.Allowed allowed = (Admission.Allowed) outcome;
    session = allowed.session();
    normalized = allowed.request();
    rule = allowed.rule();
    decision = Decision.ALLOW;
    reason = allowed.reason();
    credentialNames = allowed.credentialNames();
    bodyScanner = allowed.scanBody() ? admission.placeholders().newBodyScanner() : null;
    takeContentOfFullRequest();
    if (response != Response.PENDING) {
      return; // answered already: a placeholder in the body
    }
    if (credentialNames.isEmpty()) {
      admitted(admission.inject(head, allowed, List.of(), null));
      return;
    }
    admission
        .resolve(allowed)
        .whenComplete(
            (values, failure) ->
                agent
                    .executor()
                    .execute(
                        () -> {
                          if (stage == Stage.ADMITTING
                              && response == Response.PENDING
                              && agent.channel().isActive()) {
                            admitted(admission.inject(head, allowed, values, failure));
                          }
                        }));
  }

  /** Admission's final answer: forward the plan, or answer here. */
  private void admitted(Admission.Outcome outcome) {
    if (outcome instanceof Admission.LocalAnswer answer) {
      answer(answer);
      return;
    }
    Admission.Forward plan = (Admission.Forward) outcome;
    placeholderValues = plan.placeholderValues();
    valuesExpireAt = plan.valuesExpireAt();
    // Every value resolved so far, this request's included (issue 11).
    scrubber = services.knownSecrets().newScrubber();
    to(Stage.CONNECTING);
    connect(plan.inject());
  }

  /** HTTP/2 requests without body arrive whole; their (empty) content ends the request. */
  private void takeContentOfFullRequest() {
    if (request instanceof FullHttpRequest full) {
      HttpContent body =
          new DefaultLastHttpContent(full.content().retain(), full.trailingHeaders());
      ReferenceCountUtil.release(full);
      onRequestContent(body);
    }
  }

  private static RawRequest rawOf(HttpRequest request) {
    return new RawRequest(
        request.method().name(),
        request.uri(),
        null,
        request.headers().getAll(HttpHeaderNames.HOST),
        request.headers().getAll(HttpHeaderNames.CONTENT_LENGTH),
        request.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING),
        false);
  }

  // ---------------------------------------------------------------- upstream

  private void connect(List<InjectedHeader> injected) {
    String host = normalized.host();
    int port = normalized.port();
    boolean tls = head.connection().tls();
    UpstreamLink reused = owner.takeIdleUpstream(host, port, tls);
    if (reused != null) {
      send(reused, injected);
      return;
    }
    owner
        .upstreams()
        .connect(agent.channel().eventLoop(), host, port, tls)
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                if (f.cause() instanceof UpstreamConnector.HandshakeFailure h) {
                  upstreamTlsFailed(h.getCause());
                } else {
                  upstreamFailed("upstream-unreachable", f.cause());
                }
                return;
              }
              UpstreamLink link = (UpstreamLink) f.getNow();
              if (stage != Stage.CONNECTING || !agent.channel().isActive()) {
                link.close();
                return;
              }
              send(link, injected);
            });
  }

  private void send(UpstreamLink link, List<InjectedHeader> injected) {
    to(Stage.FORWARDED);
    upstream = link;
    link.attach(this);
    injectedHeaders = injected;
    Channel ch = link.channel();
    ch.write(upstreamRequest(injected));
    if (!http2 && HttpUtil.is100ContinueExpected(request) && !requestComplete) {
      // Expect is not forwarded: the agent hears "continue" from us once the request is allowed.
      agent.writeAndFlush(
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    for (HttpContent content : pendingBody) {
      ch.write(withoutForbiddenTrailers(content));
    }
    pendingBody.clear();
    ch.flush();
    ch.config().setAutoRead(true);
    owner.updateReads();
  }

  /**
   * Exactly the normalized request: normalized target, Host = normalized host, credential injected.
   */
  private HttpRequest upstreamRequest(List<InjectedHeader> injected) {
    HttpRequest out =
        new DefaultHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.valueOf(normalized.method()), normalized.target());
    HopByHop.copyRequestHeaders(request.headers(), out.headers());
    if (!placeholderValues.isEmpty()) {
      // gh's "Authorization: token <placeholder>", an SDK's X-Api-Key, git's Basic
      // x-access-token:<placeholder>
      List<String> rewritten =
          admission.placeholders().substitute(out.headers(), placeholderValues);
      if (!rewritten.isEmpty() && valuesExpireAt != null) {
        List<String> more = new ArrayList<>();
        for (String value : rewritten) {
          more.addAll(SecretScrubber.secretsOf(value, value));
        }
        services
            .knownSecrets()
            .remember(
                "placeholder-rewrites:" + String.join(",", credentialNames), more, valuesExpireAt);
        scrubber = services.knownSecrets().newScrubber();
      }
    }
    if (upgrade) {
      WebSocketUpgrade.setUpgradeHeaders(out.headers());
      if (scrubber != null) {
        // Compressed frames would hide an echoed credential from the scrubber, as compressed bodies
        // would.
        out.headers().remove(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS);
      }
    }
    int defaultPort = head.connection().tls() ? 443 : 80;
    out.headers()
        .set(
            HttpHeaderNames.HOST,
            normalized.port() == defaultPort
                ? normalized.host()
                : normalized.host() + ":" + normalized.port());
    for (InjectedHeader header : injected) {
      out.headers()
          .remove(header.name()); // every agent-sent header of that name, any case (invariant 6)
      out.headers().set(header.name(), header.value());
    }
    if (scrubber != null) {
      // So that a response echoing a credential can be scrubbed as it streams; one compressed
      // anyway
      // is decoded first (ResponseDecoding).
      out.headers().set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
    }
    List<String> contentLength =
        head.raw().contentLength() == null ? List.of() : head.raw().contentLength();
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
    if (bodyScanner != null && response != Response.LOCAL && !finished()) {
      int found = bodyScanner.scan(content.content());
      PlaceholderLeak leak =
          found >= 0
              ? admission.placeholders().bodyLeak(found)
              : last
                  ? admission
                      .placeholders()
                      .inspectTrailers(((LastHttpContent) content).trailingHeaders())
                  : null;
      if (leak != null) {
        // This chunk (which completes the placeholder) is not forwarded; the upstream request is
        // cut.
        placeholderLeak(leak);
      }
    }
    if (response == Response.LOCAL || finished()) {
      content.release(); // the body of a request we refused: read and dropped
    } else if (upstream == null) {
      pendingBody.add(content);
    } else {
      // Flushed once per agent read burst (flushUpstream), not per chunk: fewer syscalls and TLS
      // records.
      upstream.channel().write(withoutForbiddenTrailers(content));
      if (last) {
        upstream.channel().flush();
      }
    }
    if (last) {
      requestComplete = true;
      maybeFinish();
    }
  }

  /** The last chunk of the request body without the trailer fields that may not follow a body. */
  private HttpContent withoutForbiddenTrailers(HttpContent content) {
    if (!(content instanceof LastHttpContent last) || last.trailingHeaders().isEmpty()) {
      return content;
    }
    List<String> dropped = droppedTrailers == null ? new ArrayList<>(1) : droppedTrailers;
    HttpHeaders kept = RequestTrailers.filter(last.trailingHeaders(), injectedHeaders, dropped);
    if (kept == last.trailingHeaders()) {
      return content;
    }
    droppedTrailers = dropped;
    reason =
        (reason == null ? "" : reason + "; ")
            + "request-trailer-dropped: "
            + String.join(",", dropped);
    LastHttpContent out = new DefaultLastHttpContent(last.content().retain(), kept);
    last.release();
    return out;
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    owner.updateReads();
  }

  // ---------------------------------------------------------------- response

  @Override
  public void onUpstreamMessage(Object msg) {
    if (finished() || response == Response.LOCAL) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse upstreamHead) {
      if (upgrade && WebSocketUpgrade.isAcceptance(upstreamHead)) {
        ReferenceCountUtil.release(msg);
        switchToWebSocket(upstreamHead);
        return;
      }
      if (upstreamHead.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        // 100/103 from upstream: the agent already got its "continue" from us
        to(Response.SKIPPING_INFORMATIONAL);
      } else {
        startResponse(upstreamHead);
        if (response == Response.LOCAL) {
          ReferenceCountUtil.release(
              msg); // refused (a coding the scrubber cannot read): none of its body goes on
          return;
        }
      }
    }
    if (msg instanceof HttpContent content) {
      if (response == Response.SKIPPING_INFORMATIONAL) {
        if (content instanceof LastHttpContent) {
          to(Response.PENDING);
        }
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
    String length = response.headers().get(HttpHeaderNames.CONTENT_LENGTH);
    HttpResponseStatus status = response.status();
    if (scrubber != null) {
      if (mayHaveBody(response) && !"0".equals(length)) {
        try {
          decoding =
              ResponseDecoding.forCodings(
                  response.headers().getAll(HttpHeaderNames.CONTENT_ENCODING));
          if (decoding != null && status.code() == HttpResponseStatus.PARTIAL_CONTENT.code()) {
            throw new ResponseDecoding.Unscannable(
                "a range of a compressed body"); // not decodable on its own
          }
        } catch (ResponseDecoding.Unscannable e) {
          unscannableResponse(e.getMessage());
          return;
        }
      }
      // The reason phrase is the upstream's text too (HTTP/1.1 upstreams; h2 agents never see it).
      String phrase = scrubber.scrub(status.reasonPhrase());
      if (phrase != status.reasonPhrase()) {
        status = new HttpResponseStatus(status.code(), phrase);
      }
    }
    HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
    HopByHop.copyEndToEnd(response.headers(), out.headers());
    if (decoding != null) {
      // The agent gets the decoded body: its length is unknown until the end.
      out.headers().remove(HttpHeaderNames.CONTENT_ENCODING);
      out.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
      if (!http2) {
        HttpUtil.setTransferEncodingChunked(out, true);
      }
    } else if (length != null) {
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
    to(Response.RELAYING);
    lastWrite = agent.write(out);
  }

  private boolean mayHaveBody(HttpResponse response) {
    int code = response.status().code();
    return !"HEAD".equals(request.method().name()) && code != 204 && code != 304;
  }

  private void relayContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (decoding != null) {
      decoding.offer(content.content().retain());
      if (last) {
        decodedTrailers = ((LastHttpContent) content).trailingHeaders().copy();
      }
      content.release();
      pumpDecoded();
      return;
    }
    HttpContent out;
    if (scrubber != null) {
      out =
          scrubbed(
              content.content().retain(),
              last ? ((LastHttpContent) content).trailingHeaders() : null);
      content.release();
    } else {
      out = content;
    }
    writeToAgent(out, last);
  }

  /** A body chunk with the secrets masked; the last one (with {@code trailers}) too. */
  private HttpContent scrubbed(ByteBuf body, HttpHeaders trailers) {
    boolean last = trailers != null;
    ByteBuf masked = scrubber.scrub(body, last);
    if (!last) {
      return new DefaultHttpContent(masked);
    }
    LastHttpContent out = new DefaultLastHttpContent(masked, trailers.copy());
    scrubber.scrub(out.trailingHeaders());
    return out;
  }

  private void writeToAgent(HttpContent out, boolean last) {
    // Flushed once per upstream read burst (flushAgent) or at the end, not per chunk.
    lastWrite = last ? agent.writeAndFlush(out) : agent.write(out);
    if (!agent.channel().isWritable() && upstream != null) {
      upstream.channel().config().setAutoRead(false); // resumed by onAgentWritabilityChanged
    }
    if (last) {
      to(Response.RELAYED);
      maybeFinish();
    }
  }

  /**
   * Decodes, scrubs and writes as much of a compressed body as the agent takes now, a slice at a
   * time; the rest waits (upstream reads paused) until the agent is writable again.
   */
  private void pumpDecoded() {
    boolean wrote = false;
    try {
      while (decoding.pending() && agent.channel().isWritable() && !finished()) {
        ByteBuf piece = decoding.decodeSlice();
        if (piece.isReadable()) {
          writeToAgent(scrubbed(piece, null), false);
          wrote = true;
        } else {
          piece.release();
        }
      }
    } catch (RuntimeException e) {
      brokenResponse(
          "upstream-bad-encoding: the upstream's compressed body does not decode ("
              + e.getClass().getSimpleName()
              + ")");
      return;
    }
    if (finished()) {
      return;
    }
    if (!decoding.pending() && decodedTrailers != null) {
      if (!decoding.complete()) {
        brokenResponse("upstream-bad-encoding: the upstream's compressed body ended early");
        return;
      }
      HttpHeaders trailers = decodedTrailers;
      decodedTrailers = null;
      writeToAgent(scrubbed(io.netty.buffer.Unpooled.EMPTY_BUFFER, trailers), true);
      return;
    }
    if (wrote) {
      agent.flush();
    }
    if (decoding.pending() && upstream != null) {
      upstream.channel().config().setAutoRead(false); // resumed once the pending input is decoded
    }
  }

  /** Mid-response failure: the agent must see a broken response, never a silently truncated one. */
  private void brokenResponse(String why) {
    decision = Decision.ERROR;
    reason = (reason == null ? "" : reason + "; ") + why;
    closeAfter = true;
    if (upstream != null) {
      upstream.close();
      upstream = null;
    }
    finish();
  }

  /**
   * The upstream compressed its body in a way the sidecar cannot scan (brotli, zstd, a chain of
   * codings, a range of a compressed body): a 502 rather than a body that could hide a credential.
   */
  private void unscannableResponse(String coding) {
    // The coding is the upstream's text: masked, and cut short for the answer and the audit line.
    String shown = scrubber.scrub(coding.length() > 64 ? coding.substring(0, 64) + "..." : coding);
    decision = Decision.ERROR;
    reason = "unscannable-response-encoding: Content-Encoding " + shown;
    respond(
        HttpResponseStatus.BAD_GATEWAY,
        Denial.json(
            "unscannable-response-encoding",
            head.host(normalized),
            head.method(),
            head.path(normalized),
            rule,
            id,
            "the upstream answered with Content-Encoding "
                + shown
                + " although the sidecar asked for identity; the sidecar cannot scan that body for credentials"
                + " (it decodes gzip and deflate only)"));
  }

  /** The upstream delivered what it had for now: send it on to the agent. */
  @Override
  public void onUpstreamReadComplete() {
    if (response.started() && response != Response.LOCAL) {
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
    if (writable
        && decoding != null
        && decoding.pending()
        && !finished()
        && response != Response.LOCAL) {
      pumpDecoded();
    }
    if (upstream != null && response == Response.RELAYING) {
      upstream
          .channel()
          .config()
          .setAutoRead(writable && (decoding == null || !decoding.pending()));
    }
    owner.updateReads();
  }

  @Override
  public void onUpstreamClosed(Throwable cause) {
    UpstreamLink link = upstream;
    upstream = null;
    if (link != null) {
      link.detach();
    }
    if (finished() || response.complete()) {
      return;
    }
    if (!response.started()) {
      if (cause != null && TlsFailures.isTls(cause)) {
        upstreamTlsFailed(
            cause); // TLS 1.3: a server that wants a client certificate says so after our Finished
        return;
      }
      upstreamFailed(
          cause instanceof ReadTimeoutException ? "upstream-timeout" : "upstream-closed", cause);
      return;
    }
    // Mid-response: the agent must see a broken response, never a silently truncated one.
    reason = "upstream closed mid-response";
    decision = Decision.ERROR;
    closeAfter = true;
    finish();
  }

  /**
   * The agent broke the HTTP/2 protocol on this stream (the stream is being reset with {@code
   * error}): the exchange ends here, its audit line naming the error code.
   */
  void onStreamError(Http2Error error) {
    if (finished()) {
      return;
    }
    decision = Decision.ERROR;
    reason =
        (reason == null ? "" : reason + "; ")
            + "h2-stream-error: "
            + error
            + " (the agent broke RFC 9113 on this stream; reset)";
    closeAfter = true;
    finish();
  }

  void onAgentClosed() {
    if (finished()) {
      return;
    }
    if (!response.complete()) {
      decision = Decision.ERROR;
      reason = "agent closed the connection";
    }
    closeAfter = true;
    finish();
  }

  // ---------------------------------------------------------------- local answers

  /** Admission's local answer: written, audited as admission said. */
  private void answer(Admission.LocalAnswer answer) {
    session = answer.session();
    normalized = answer.request();
    rule = answer.rule();
    credentialNames = answer.credentialNames();
    decision = answer.decision();
    reason = answer.reason();
    if (answer.leak() != null) {
      countLeak(answer.leak());
    }
    if (answer.closeConnection()) {
      closeAfter = true; // framing or host may be ambiguous: nothing after this can be trusted
    }
    respond(HttpResponseStatus.valueOf(answer.status()), answer.body());
  }

  /** A likely exfiltration attempt: counted and logged (the credential's name, never a value). */
  private void countLeak(PlaceholderLeak leak) {
    services.audit().placeholderLeak(leak.credential());
    LOG.warning("request " + id + ": " + reason);
  }

  /**
   * A placeholder where it may not go: 403 {@code placeholder-exfiltration}, audited as a likely
   * exfiltration attempt naming the credential. Mid-body, the upstream request is cut; if the
   * upstream already started answering, both connections are closed (the agent sees a broken
   * response).
   */
  private void placeholderLeak(PlaceholderLeak leak) {
    if (finished() || response == Response.LOCAL) {
      return;
    }
    decision = Decision.DENY;
    reason = leak.auditReason(head.host(normalized));
    credentialNames = leak.credential() == null ? List.of() : List.of(leak.credential());
    countLeak(leak);
    if (response.started()) {
      closeAfter = true;
      if (upstream != null) {
        upstream.close();
        upstream = null;
      }
      finish();
      return;
    }
    respond(
        HttpResponseStatus.FORBIDDEN,
        Denial.json(
            leak.error(),
            head.host(normalized),
            head.method(),
            head.path(normalized),
            rule,
            id,
            leak.detail()));
  }

  /**
   * The sidecar's own TLS to the upstream failed: a 502 saying plainly why, and what the way out
   * is.
   */
  private void upstreamTlsFailed(Throwable cause) {
    if (finished() || response.started()) {
      return;
    }
    String why = TlsFailures.describeUpstream(cause);
    String where = normalized.host() + ":" + normalized.port();
    LOG.log(
        Level.INFO, "request " + id + " to " + where + ": upstream TLS handshake failed: " + why);
    decision = Decision.ERROR;
    reason = "upstream-tls-handshake-failed: " + why;
    respond(
        HttpResponseStatus.BAD_GATEWAY,
        Denial.json(
            "upstream-tls-handshake-failed",
            head.host(normalized),
            head.method(),
            head.path(normalized),
            rule,
            id,
            TlsFailures.upstreamAdvice(where, why)));
  }

  private void upstreamFailed(String why, Throwable cause) {
    if (finished() || response.started()) {
      return;
    }
    LOG.log(
        Level.INFO,
        "request "
            + id
            + " to "
            + normalized.host()
            + ": "
            + why
            + (cause == null ? "" : " (" + cause.getMessage() + ")"));
    decision = Decision.ERROR;
    // A dial failure's message is written by the dialer (host, port, proxy answer): safe to show.
    String detail = cause instanceof UpstreamDialer.DialFailure ? cause.getMessage() : null;
    reason = detail == null ? why : why + ": " + detail;
    HttpResponseStatus status =
        "upstream-timeout".equals(why)
            ? HttpResponseStatus.GATEWAY_TIMEOUT
            : HttpResponseStatus.BAD_GATEWAY;
    respond(
        status,
        Denial.json(
            why, head.host(normalized), head.method(), head.path(normalized), rule, id, detail));
  }

  private void respond(HttpResponseStatus status, String json) {
    to(Response.LOCAL);
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
    lastWrite = agent.writeAndFlush(JsonResponses.of(status, json, closeAfter && !http2));
    if (closeAfter) {
      finish();
    } else {
      maybeFinish();
    }
  }

  // ---------------------------------------------------------------- WebSocket

  /**
   * The upstream accepted the WebSocket upgrade: the agent gets the 101 (credential masked out of
   * its headers), this exchange ends (audited once, with status 101), and both connections become a
   * byte splice. Upstream-to-agent bytes still pass the scrubber when a credential was injected.
   * Runs while the upstream's HTTP decoder is delivering the 101: its remaining output (frames the
   * upstream sent right behind the 101) reaches the splice, in order.
   */
  private void switchToWebSocket(HttpResponse response) {
    upstreamStatus = response.status().code();
    to(Response.RELAYED);
    lastWrite = agent.writeAndFlush(WebSocketUpgrade.responseForAgent(response, scrubber));
    UpstreamLink link = upstream;
    upstream = null;
    link.detach();
    to(Stage.FINISHED);
    reason = (reason == null ? "" : reason + "; ") + "upgraded to websocket";
    recordOutcome((System.nanoTime() - startNanos) / 1000);
    owner.switchToSplice(link, scrubber == null ? null : WebSocketUpgrade.masking(scrubber));
  }

  // ---------------------------------------------------------------- the end

  private void maybeFinish() {
    if (requestComplete && response.complete()) {
      finish();
    }
  }

  private void finish() {
    if (finished()) {
      return;
    }
    to(Stage.FINISHED);
    releasePendingBody();
    if (decoding != null) {
      decoding.close();
    }
    long micros = (System.nanoTime() - startNanos) / 1000;
    recordOutcome(micros);
    UpstreamLink reusable = null;
    if (upstream != null) {
      if (response == Response.RELAYED && requestComplete && upstreamKeepAlive && !closeAfter) {
        reusable = upstream;
      } else {
        upstream.close();
      }
      upstream = null;
    }
    owner.exchangeFinished(this, !closeAfter, reusable);
  }

  /** The one audit line and decision metric of this request (every path ends here, once). */
  private void recordOutcome(long micros) {
    SessionIdentity s =
        session != null ? session : services.policies().current().map(Policy::session).orElse(null);
    services
        .audit()
        .record(
            AuditEvent.request(
                id,
                s,
                head.host(normalized),
                head.method(),
                head.path(normalized),
                rule,
                decision,
                credentialNames.isEmpty() ? null : String.join(",", credentialNames),
                upstreamStatus,
                micros,
                reason));
  }

  private void releasePendingBody() {
    for (HttpContent c : pendingBody) {
      c.release();
    }
    pendingBody.clear();
  }
}
