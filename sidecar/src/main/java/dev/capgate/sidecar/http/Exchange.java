package dev.capgate.sidecar.http;

import dev.capgate.api.v1alpha1.Approval;
import dev.capgate.sidecar.approval.Approvals;
import dev.capgate.sidecar.audit.AuditEvent;
import dev.capgate.sidecar.audit.Decision;
import dev.capgate.sidecar.audit.Denial;
import dev.capgate.sidecar.audit.Flow;
import dev.capgate.sidecar.audit.Problem;
import dev.capgate.sidecar.credentials.InjectedHeader;
import dev.capgate.sidecar.credentials.PlaceholderLeak;
import dev.capgate.sidecar.limits.Ticket;
import dev.capgate.sidecar.mcp.McpVerdict;
import dev.capgate.sidecar.mcp.ResultFilter;
import dev.capgate.sidecar.mcp.ToolCallOutcome;
import dev.capgate.sidecar.policy.GrpcRules;
import dev.capgate.sidecar.policy.McpRules;
import dev.capgate.sidecar.policy.NormalizedRequest;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.PushRules;
import dev.capgate.sidecar.policy.RawRequest;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.sigv4.Resigner;
import dev.capgate.sidecar.sigv4.SignedRequest;
import dev.capgate.sidecar.tls.TlsFailures;
import dev.capgate.sidecar.upstream.TcpRelay;
import dev.capgate.sidecar.upstream.UpstreamConnector;
import dev.capgate.sidecar.upstream.UpstreamDialer;
import dev.capgate.sidecar.upstream.UpstreamLink;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.util.ReferenceCountUtil;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One request and its response, from the head to the audit line. {@link Admission} decides on the
 * head (normalize, policy, placeholders, credentials, inject); this class acts on its answer. A
 * local answer is written and the request body dropped. A forward plan gets an upstream link (an
 * idle one of the agent connection, or a new one from {@link UpstreamConnector}; 502/504 if that
 * fails), and the normalized request with the credential injected goes out. Two helpers carry the
 * bodies, with back-pressure and nothing buffered whole: {@link RequestBody} the agent's (scanned
 * for placeholders, trailers filtered) and {@link ResponseRelay} the upstream's answer (every known
 * credential value masked, a compressed body decoded, a WebSocket 101 handed to the splice). {@link
 * Stage} and the relay's {@link ResponseRelay.State} say where it stands; {@link #recordOutcome}
 * writes its one audit line when it ends.
 *
 * <p>Placeholder credentials (issue 8): the head is checked by admission, the body chunk by chunk
 * as it streams ({@link PlaceholderGuard}); a placeholder where it may not go is a 403 {@code
 * placeholder-exfiltration}. A WebSocket upgrade request is an ordinary request to policy; when the
 * upstream answers 101 the connection becomes a byte splice both ways.
 */
final class Exchange implements UpstreamLink.Listener {
  private static final Logger LOG = Logger.getLogger(Exchange.class.getName());
  private static final String TRACEPARENT = "traceparent";

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

  /** What becomes of the agent's connection when this exchange ends; it only moves to CLOSE. */
  enum AgentConnectionAfter {
    /** HTTP/1.1 keep-alive (or an HTTP/2 stream that ends normally): the next request may come. */
    KEEP,
    /** Closed (HTTP/2: the stream is reset) once the last write is out. */
    CLOSE
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

  private final RequestBody body;
  private final ResponseRelay response;

  /**
   * The agent's {@code traceparent}, taken before anything is injected (a credential header could
   * bear that name); null when absent or repeated. Checked and written by the audit writer.
   */
  private final String traceparent;

  /**
   * A gRPC call (HTTP/2, {@code content-type: application/grpc...}): goes upstream on an HTTP/2
   * stream with its trailers, and the sidecar's own answers are gRPC statuses ({@link GrpcCall}).
   */
  private final boolean grpc;

  /** The rule's verdict on the gRPC method (null: not a call, or its rule names no methods). */
  private GrpcRules.Judgement grpcMethod;

  /** The gRPC status of the sidecar's own answer to a call (null: none, or the upstream's). */
  private Integer grpcLocalStatus;

  /** Set once a 101 switched the connection: the audit line's protocol is then websocket. */
  private boolean websocket;

  private Stage stage = Stage.ADMITTING;
  private AgentConnectionAfter after = AgentConnectionAfter.KEEP;

  private NormalizedRequest normalized;
  private String rule;
  private List<String> credentialNames = List.of();
  private SessionIdentity session;
  private Decision decision = Decision.ERROR;
  private String reason;

  private UpstreamLink upstream;

  /** A git push held until its ref update commands are judged (null: not a gated push). */
  private ReceivePackGate gitPush;

  /** An MCP message held until it is judged whole (null: not an MCP message of an mcp rule). */
  private McpGate mcp;

  /**
   * The metric's tool label for an MCP answer replaced as too large: the one tool the body called,
   * or {@link ToolCallOutcome#OTHER_TOOL} when it called several.
   */
  private String mcpResultTool = ToolCallOutcome.OTHER_TOOL;

  /** The admission of a held push or MCP message, continued once its gate allows it. */
  private Admission.Allowed awaitingGate;

  /**
   * A push refused before its body ended: the rest is read and dropped, and this answer goes when
   * the body ends (null: none waiting).
   */
  private ReceivePackGate.Verdict refusalAfterBody;

  /** The request was put before a person once (its rule requires approval). */
  private boolean approvalAsked;

  /** "100 Continue" was sent already (a held push needs its body before it is forwarded). */
  private boolean continued;

  /** Credential name → real value, for the placeholders of the rule's credentials (empty: none). */
  private Map<String, String> placeholderValues = Map.of();

  /** Signs the upstream request again with the real AWS keys, last (null: not an AWS route). */
  private Resigner resigner;

  /** When the values injected here must be fetched again (for values derived from them). */
  private Instant valuesExpireAt;

  /** The hold on the rule's and session's limits, released with the bytes moved when it ends. */
  private Ticket ticket = Ticket.NONE;

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
    this.traceparent = traceparentOf(request);
    this.grpc = !malformed && GrpcCall.is(http2, request.headers());
    this.body = new RequestBody(this, admission.placeholders());
    this.response = new ResponseRelay(this, agent, http2, "HEAD".equals(request.method().name()));
  }

  private void to(Stage next) {
    assert next.compareTo(stage) > 0 : stage + " -> " + next;
    stage = next;
  }

  boolean finished() {
    return stage == Stage.FINISHED;
  }

  boolean requestComplete() {
    return body.complete();
  }

  /** A WebSocket upgrade request: a 101 from the upstream switches the connection to a splice. */
  boolean upgrade() {
    return upgrade;
  }

  /** A gRPC call: its answer keeps its trailers, and a trailers-only answer stays one. */
  boolean grpc() {
    return grpc;
  }

  /** Ends the agent's connection (HTTP/2: resets the stream) after this exchange; never undone. */
  private void closeAgentConnectionAfter() {
    after = AgentConnectionAfter.CLOSE;
  }

  boolean closesAgentConnection() {
    return after == AgentConnectionAfter.CLOSE;
  }

  /** The upstream link's channel, or null before it is there and after it is gone. */
  Channel upstreamChannel() {
    return upstream == null ? null : upstream.channel();
  }

  /**
   * Whether the agent's body still goes upstream (false: answered here, or over; it is dropped).
   */
  boolean forwardsRequestBody() {
    return !response.local() && refusalAfterBody == null && !finished();
  }

  /** Whether agent body bytes can be taken now (see {@link ExchangeHandler#updateReads}). */
  boolean readyForBody() {
    if (upgrade && !finished()) {
      return false; // nothing is read after an upgrade request until the connection is switched (or
      // closed)
    }
    return body.complete()
        || response.local()
        || refusalAfterBody != null
        || body.gating()
        || (upstream != null && upstream.channel().isWritable());
  }

  ChannelFuture lastWrite() {
    return response.lastWrite();
  }

  /** Adds to the audit line's reason (what happened besides the decision). */
  void note(String more) {
    reason = (reason == null ? "" : reason + "; ") + more;
  }

  // ---------------------------------------------------------------- request head: decide

  /** The head arrived: admission decides; an allowed request then waits for its credentials. */
  void start() {
    if ((!http2 && !HttpUtil.isKeepAlive(request)) || upgrade) {
      // An upgrade's connection ends with it unless the upstream switches protocols.
      closeAgentConnectionAfter();
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
    decision = allowed.wouldDeny() ? Decision.WOULD_DENY : Decision.ALLOW;
    reason = allowed.reason();
    credentialNames = allowed.credentialNames();
    ticket = allowed.ticket();
    if (allowed.scanBody()) {
      body.scanForPlaceholders();
    }
    if (grpc && !grpcMethodAllowed(allowed)) {
      takeContentOfFullRequest();
      return;
    }
    PushRules push =
        !grpc
                && ReceivePackGate.applies(
                    normalized, request.headers().get(HttpHeaderNames.CONTENT_TYPE))
            ? allowed.policy().gitPush(rule)
            : null;
    if (push != null) {
      String encoding = request.headers().get(HttpHeaderNames.CONTENT_ENCODING);
      if (encoding != null && !HttpHeaderValues.IDENTITY.contentEqualsIgnoreCase(encoding)) {
        refusePush(new ReceivePackGate.Verdict(null, "encoded push bodies are not judged", null));
        takeContentOfFullRequest();
        return;
      }
      gitPush = new ReceivePackGate(push, agent.executor(), this::bodyJudged);
      holdBodyFor(gitPush, allowed); // the commands are needed to decide
    } else {
      McpRules rules = grpc ? null : allowed.policy().mcp(rule);
      if (rules != null && McpGate.applies(normalized, rules)) {
        mcp = new McpGate(rules);
        String encoding = request.headers().get(HttpHeaderNames.CONTENT_ENCODING);
        if (encoding != null && !HttpHeaderValues.IDENTITY.contentEqualsIgnoreCase(encoding)) {
          mcp.refuseUnread(
              "encoded (Content-Encoding " + shortened(encoding) + ") bodies are not read");
          refuseMcp((McpVerdict.Refuse) mcp.verdict());
          takeContentOfFullRequest();
          return;
        }
        holdBodyFor(mcp, allowed); // the whole message is needed to decide
      }
    }
    takeContentOfFullRequest();
    if (response.state() != ResponseRelay.State.PENDING) {
      return; // answered already: a placeholder in the body
    }
    if (gitPush != null || mcp != null) {
      return; // bodyJudged continues
    }
    continueAdmission(allowed);
  }

  /**
   * A gRPC call through a rule that names methods: judged on its method before anything else
   * happens (no credential fetched, nothing sent). Refused: a trailers-only PERMISSION_DENIED (in
   * learn mode: let through, audited as would-deny).
   */
  private boolean grpcMethodAllowed(Admission.Allowed allowed) {
    GrpcRules rules = rule == null ? null : allowed.policy().grpc(rule);
    if (rules == null) {
      return true;
    }
    grpcMethod = rules.judge(normalized.path());
    if (grpcMethod.allowed() && normalized.target().indexOf('?') < 0) {
      return true;
    }
    String why =
        grpcMethod.allowed()
            ? "grpc-method-denied: a gRPC call's path carries a query (rule '" + rule + "')"
            : grpcMethod.reason();
    if (allowed.policy().audits()) {
      decision = Decision.WOULD_DENY;
      note(why);
      return true;
    }
    decision = Decision.DENY;
    credentialNames = List.of(); // none was fetched, none injected
    reason = why;
    respond(
        HttpResponseStatus.FORBIDDEN,
        Denial.json(
            Problem.DENIED,
            why,
            normalized.host(),
            normalized.method(),
            normalized.path(),
            rule,
            id));
    return false;
  }

  private static String shortened(String text) {
    return text.length() > 64 ? text.substring(0, 64) + "..." : text;
  }

  /** The body is read by {@code gate} before the request may go on; an Expect is answered now. */
  private void holdBodyFor(BodyGate gate, Admission.Allowed allowed) {
    awaitingGate = allowed;
    body.gate(gate);
    if (!http2 && HttpUtil.is100ContinueExpected(request)) {
      continued = true; // the body must come first
      agent.writeAndFlush(
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
  }

  /**
   * A held body's gate has its verdict (a push's ref update commands, an MCP message): refuse the
   * request here, or continue its admission.
   */
  void bodyJudged() {
    Admission.Allowed allowed = awaitingGate;
    awaitingGate = null;
    if (allowed == null
        || stage != Stage.ADMITTING
        || response.state() != ResponseRelay.State.PENDING) {
      return;
    }
    if (mcp != null) {
      mcpJudged(allowed, mcp.verdict());
      return;
    }
    ReceivePackGate.Verdict refused = gitPush.verdict();
    if (refused != null) {
      refusePush(refused);
      return;
    }
    note("git push: ref updates allowed");
    if (gitPush.proof() != null) {
      note("git push: " + gitPush.proof());
    }
    continueAdmission(allowed);
  }

  /**
   * A push refused by its rule's git block: the receive-pack result git prints per ref (or a 403
   * when the client cannot read one), audited as a denial naming the ref. The rest of the body is
   * read and dropped; the receive-pack result goes once the body ended.
   */
  private void refusePush(ReceivePackGate.Verdict refused) {
    decision = Decision.DENY;
    credentialNames = List.of(); // none was fetched, none injected
    reason = refused.auditReason();
    if (refused.report() == null) {
      respond(
          HttpResponseStatus.FORBIDDEN,
          Denial.json(
              Problem.DENIED,
              reason,
              normalized.host(),
              normalized.method(),
              normalized.path(),
              rule,
              id));
      return;
    }
    body.releaseHeld();
    if (!body.complete()) {
      // Refused mid-body (a pack over maxPackBytes, or commands judged before a big pack ended).
      // Answered now, git over HTTP/2 never finished its upload nor printed the answer (seen with
      // curl); the rest is read and dropped instead, and git reads the answer when it is done.
      refusalAfterBody = refused;
      owner.updateReads();
      return;
    }
    response.answerLocally(refused.response());
    maybeFinish();
  }

  /**
   * An MCP message judged whole: refused ones are answered here with JSON-RPC errors; allowed ones
   * go upstream unchanged, their answers to tools/list and tools/call filtered on the way back.
   */
  private void mcpJudged(Admission.Allowed allowed, McpVerdict verdict) {
    countToolCalls(verdict.outcomes());
    if (verdict instanceof McpVerdict.Refuse refused) {
      refuseMcp(refused);
      return;
    }
    McpVerdict.Forward forward = (McpVerdict.Forward) verdict;
    note(forward.auditReason());
    List<ToolCallOutcome> calls = forward.outcomes();
    if (calls.size() == 1) {
      mcpResultTool = calls.getFirst().tool();
    }
    if (forward.checksResponse()) {
      response.filterMcp(new ResultFilter(mcp.rules(), forward.listIds(), forward.callIds()));
    }
    continueAdmission(allowed);
  }

  private void countToolCalls(List<ToolCallOutcome> outcomes) {
    for (ToolCallOutcome o : outcomes) {
      services.audit().mcpToolCall(mcp.rules().rule(), o.tool(), o.outcome());
    }
  }

  /**
   * An MCP message refused by its rule: the JSON-RPC answer the client shows (errors with the same
   * ids, naming rule and reason), audited as a denial; nothing went upstream. A body refused before
   * its end (too large) ends the connection rather than being read to its end.
   */
  private void refuseMcp(McpVerdict.Refuse refused) {
    decision = Decision.DENY;
    credentialNames = List.of(); // none was fetched, none injected
    reason = refused.auditReason();
    body.releaseHeld();
    closeUpstream();
    if (!body.complete() && requestHasBody) {
      closeAgentConnectionAfter();
    }
    response.answerLocally(McpGate.response(refused, closesAgentConnection() && !http2));
    if (closesAgentConnection()) {
      finish();
    } else {
      maybeFinish();
    }
  }

  /**
   * A request whose rule requires approval is held here, after policy (and a push's ref checks) and
   * before any credential is fetched or upstream dialled: nothing leaves the pod until a person
   * approves. The agent's body stays unread meanwhile ({@link #readyForBody}: no upstream yet), so
   * the hold buffers nothing beyond what the socket already took. The hold is an exchange in
   * flight, so the connection's idle timeout does not cut it ({@link IdleClose}); the approval's
   * does.
   */
  private void continueAdmission(Admission.Allowed allowed) {
    Approval approval = approvalAsked ? null : allowed.policy().approval(rule);
    if (approval == null) {
      resolveCredentials(allowed);
      return;
    }
    approvalAsked = true;
    services
        .approvals()
        .ask(
            new Approvals.HeldRequest(
                id,
                rule,
                normalized.method(),
                normalized.host(),
                normalized.path(),
                approval.timeoutOrDefault(),
                approval.approvers()))
        .whenComplete(
            (outcome, failure) ->
                agent
                    .executor()
                    .execute(
                        () -> {
                          if (stage == Stage.ADMITTING
                              && response.state() == ResponseRelay.State.PENDING
                              && agent.channel().isActive()) {
                            decided(
                                allowed,
                                outcome != null
                                    ? outcome
                                    : new Approvals.Outcome.Unavailable(
                                        id, String.valueOf(failure)));
                          }
                        }));
  }

  /** A person's decision (or its absence) on a held request: on, or a local answer. */
  private void decided(Admission.Allowed allowed, Approvals.Outcome outcome) {
    services.audit().approval(rule, outcomeLabel(outcome));
    switch (outcome) {
      case Approvals.Outcome.Approved a -> {
        note("approval " + a.id() + " approved by " + by(a.decidedBy()));
        resolveCredentials(allowed);
      }
      case Approvals.Outcome.Rejected r ->
          refuseHeld(
              Problem.APPROVAL_REJECTED,
              "approval-rejected: approval " + r.id() + " rejected by " + by(r.decidedBy()));
      case Approvals.Outcome.TimedOut t ->
          refuseHeld(
              Problem.APPROVAL_TIMED_OUT,
              "approval-timed-out: approval " + t.id() + " not decided in time");
      case Approvals.Outcome.Unavailable u ->
          refuseHeld(
              Problem.APPROVAL_UNAVAILABLE,
              "approval-unavailable: approval " + u.id() + ": " + u.why());
    }
  }

  private static String outcomeLabel(Approvals.Outcome outcome) {
    return switch (outcome) {
      case Approvals.Outcome.Approved a -> "approved";
      case Approvals.Outcome.Rejected r -> "rejected";
      case Approvals.Outcome.TimedOut t -> "timed-out";
      case Approvals.Outcome.Unavailable u -> "unavailable";
    };
  }

  /** The webhook's stamp; absent only where no Capgate webhook serves the namespace. */
  private static String by(String decidedBy) {
    return decidedBy == null ? "(not stamped)" : decidedBy;
  }

  private void refuseHeld(Problem problem, String why) {
    decision = Decision.DENY;
    credentialNames = List.of(); // none was fetched, none injected
    reason = why;
    respond(
        HttpResponseStatus.valueOf(problem.status()),
        Denial.json(
            problem,
            problem.token(),
            normalized.host(),
            normalized.method(),
            normalized.path(),
            rule,
            id,
            why));
  }

  /** The credentials of an allowed (and, if its rule says so, approved) request, then its plan. */
  private void resolveCredentials(Admission.Allowed allowed) {
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
                              && response.state() == ResponseRelay.State.PENDING
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
    resigner = plan.resigner();
    // Every value resolved so far, this request's included (issue 11).
    response.scrubWith(services.knownSecrets().newScrubber());
    to(Stage.CONNECTING);
    connect(plan.inject());
  }

  /** HTTP/2 requests without body arrive whole; their (empty) content ends the request. */
  private void takeContentOfFullRequest() {
    if (request instanceof FullHttpRequest full) {
      HttpContent content =
          new DefaultLastHttpContent(full.content().retain(), full.trailingHeaders());
      ReferenceCountUtil.release(full);
      onRequestContent(content);
    }
  }

  private static String traceparentOf(HttpRequest request) {
    String value = request.headers().get(TRACEPARENT);
    return value == null || request.headers().getAll(TRACEPARENT).size() != 1 ? null : value;
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
    if (grpc && tls) {
      // gRPC needs HTTP/2 upstream (trailers): a stream on the agent connection's shared upstream
      // connection to that target.
      owner
          .upstreams()
          .connectStream(agent.channel().eventLoop(), host, port, owner.h2Upstreams())
          .addListener(f -> connected(f, injected));
      return;
    }
    UpstreamLink reused = owner.takeIdleUpstream(host, port, tls);
    if (reused != null) {
      send(reused, injected);
      return;
    }
    owner
        .upstreams()
        .connect(agent.channel().eventLoop(), host, port, tls)
        .addListener(f -> connected(f, injected));
  }

  private void connected(io.netty.util.concurrent.Future<?> f, List<InjectedHeader> injected) {
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
  }

  private void send(UpstreamLink link, List<InjectedHeader> injected) {
    to(Stage.FORWARDED);
    upstream = link;
    link.attach(this);
    body.protect(injected);
    Channel ch = link.channel();
    ch.write(upstreamRequest(injected));
    if (!http2 && !continued && HttpUtil.is100ContinueExpected(request) && !body.complete()) {
      // Expect is not forwarded: the agent hears "continue" from us once the request is allowed.
      agent.writeAndFlush(
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    body.sendHeld(ch);
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
        response.scrubWith(services.knownSecrets().newScrubber());
      }
    }
    boolean scrubbed = response.scrubber() != null;
    if (response.mcpFilter() != null) {
      // An MCP answer is filtered as it comes: a compressed one could not be.
      out.headers().set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
    }
    if (upgrade) {
      WebSocketUpgrade.setUpgradeHeaders(out.headers());
      if (scrubbed) {
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
    if (scrubbed) {
      // So that a response echoing a credential can be scrubbed as it streams; one compressed
      // anyway is decoded first (ResponseDecoding).
      out.headers().set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
      if (grpc) {
        // Compressed gRPC messages could hide an echo from the scrubber, as compressed bodies
        // would.
        out.headers().set("grpc-accept-encoding", "identity");
      }
    }
    if (grpc) {
      // Kept for gRPC (an HTTP/2 upstream): servers refuse calls without it. The only TE value
      // HTTP/2 allows.
      out.headers().set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
    }
    List<String> contentLength =
        head.raw().contentLength() == null ? List.of() : head.raw().contentLength();
    if (!contentLength.isEmpty()) {
      out.headers().set(HttpHeaderNames.CONTENT_LENGTH, contentLength.getFirst().strip());
    } else if (requestHasBody) {
      HttpUtil.setTransferEncodingChunked(out, true);
    }
    if (resigner != null) {
      // Last: the signature covers the headers exactly as they leave (Host, Accept-Encoding, ...).
      Resigner.REPLACED.forEach(out.headers()::remove);
      resigner
          .headersFor(SignedRequest.of(out.method().name(), out.uri(), out.headers()))
          .forEach(out.headers()::set);
    }
    return out;
  }

  // ---------------------------------------------------------------- bodies, both ways

  void onRequestContent(HttpContent content) {
    body.onContent(content);
  }

  /** The agent sent its last chunk (or the head of a request without body). */
  void requestSent() {
    if (refusalAfterBody != null && !finished()) {
      ReceivePackGate.Verdict refused = refusalAfterBody;
      refusalAfterBody = null;
      response.answerLocally(refused.response());
    }
    maybeFinish();
  }

  /** The agent delivered what it had for now: send it on to the upstream. */
  void flushUpstream() {
    if (upstream != null) {
      upstream.channel().flush();
    }
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    owner.updateReads();
  }

  @Override
  public void onUpstreamMessage(Object msg) {
    response.onUpstreamMessage(msg);
  }

  /** The upstream delivered what it had for now: send it on to the agent. */
  @Override
  public void onUpstreamReadComplete() {
    response.onUpstreamReadComplete();
  }

  void onAgentWritabilityChanged(boolean writable) {
    response.onAgentWritabilityChanged(writable);
    owner.updateReads();
  }

  /** The upstream's response went to the agent whole. */
  void responseRelayed() {
    maybeFinish();
  }

  // ---------------------------------------------------------------- breaks

  /** Mid-response failure: the agent must see a broken response, never a silently truncated one. */
  void brokenResponse(String why) {
    decision = Decision.ERROR;
    note(why);
    closeAgentConnectionAfter();
    closeUpstream();
    finish();
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
    closeAgentConnectionAfter();
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
    note("h2-stream-error: " + error + " (the agent broke RFC 9113 on this stream; reset)");
    closeAgentConnectionAfter();
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
    closeAgentConnectionAfter();
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
      // framing or host may be ambiguous: nothing after this can be trusted
      closeAgentConnectionAfter();
    }
    if (answer.limited() != null) {
      services
          .audit()
          .limitRefused(rule, answer.limited().kind().label(), answer.limited().scope());
      respond(
          HttpResponseStatus.valueOf(answer.status()),
          answer.body(),
          answer.limited().retryAfterSeconds());
      return;
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
  void placeholderLeak(PlaceholderLeak leak) {
    if (finished() || response.local()) {
      return;
    }
    decision = Decision.DENY;
    reason = leak.auditReason(head.host(normalized));
    credentialNames = leak.credential() == null ? List.of() : List.of(leak.credential());
    countLeak(leak);
    if (response.started()) {
      closeAgentConnectionAfter();
      closeUpstream();
      finish();
      return;
    }
    respond(
        HttpResponseStatus.FORBIDDEN,
        Denial.json(
            Problem.placeholder(leak.credential() != null),
            leak.error(),
            head.host(normalized),
            head.method(),
            head.path(normalized),
            rule,
            id,
            leak.detail()));
  }

  /**
   * The upstream compressed its body in a way the sidecar cannot scan (brotli, zstd, a chain of
   * codings, a range of a compressed body): a 502 rather than a body that could hide a credential.
   */
  void unscannableResponse(String coding) {
    // The coding is the upstream's text: masked, and cut short for the answer and the audit line.
    String cut = coding.length() > 64 ? coding.substring(0, 64) + "..." : coding;
    String shown = response.scrubber() == null ? cut : response.scrubber().scrub(cut);
    decision = Decision.ERROR;
    reason = "unscannable-response-encoding: Content-Encoding " + shown;
    respond(
        HttpResponseStatus.BAD_GATEWAY,
        Denial.json(
            Problem.UNSCANNABLE_RESPONSE_ENCODING,
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
            Problem.UPSTREAM_TLS_HANDSHAKE_FAILED,
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
    Problem problem = Problem.upstream(why);
    respond(
        HttpResponseStatus.valueOf(problem.status()),
        Denial.json(
            problem,
            why,
            head.host(normalized),
            head.method(),
            head.path(normalized),
            rule,
            id,
            detail));
  }

  private void respond(HttpResponseStatus status, String json) {
    respond(status, json, 0);
  }

  /**
   * @param retryAfterSeconds a {@code Retry-After} field in whole seconds; 0 for none
   */
  private void respond(HttpResponseStatus status, String json, long retryAfterSeconds) {
    body.releaseHeld();
    closeUpstream();
    if (!body.complete() && requestHasBody) {
      // We will not forward that body: rather than read it all, end the connection (HTTP/2: reset
      // the stream) after the answer.
      closeAgentConnectionAfter();
    }
    if (grpc) {
      // A gRPC client prints grpc-status and grpc-message, not an HTTP status and a JSON body.
      grpcLocalStatus = GrpcCall.statusFor(status.code());
      response.answerLocally(
          GrpcCall.trailersOnly(
              grpcLocalStatus,
              "capgate: "
                  + (reason == null ? status.reasonPhrase() : reason)
                  + (rule == null || (reason != null && reason.contains("rule '" + rule + "'"))
                      ? ""
                      : " (rule '" + rule + "')")
                  + " [request "
                  + id
                  + "]"));
    } else {
      response.answerLocally(
          JsonResponses.of(status, json, closesAgentConnection() && !http2, retryAfterSeconds));
    }
    if (closesAgentConnection()) {
      finish();
    } else {
      maybeFinish();
    }
  }

  // ---------------------------------------------------------------- WebSocket

  /**
   * The upstream accepted the WebSocket upgrade and its 101 is on its way to the agent: this
   * exchange ends (audited once, with status 101), and both connections become a byte splice.
   *
   * @param toAgent masks credential values out of the upstream's bytes, or null
   */
  void switchedToWebSocket(TcpRelay.Transform toAgent) {
    UpstreamLink link = upstream;
    upstream = null;
    link.detach();
    to(Stage.FINISHED);
    websocket = true;
    note("upgraded to websocket");
    recordOutcome((System.nanoTime() - startNanos) / 1000);
    owner.switchToSplice(link, toAgent);
  }

  // ---------------------------------------------------------------- the end

  private void closeUpstream() {
    if (upstream != null) {
      upstream.close();
      upstream = null;
    }
  }

  private void maybeFinish() {
    if (body.complete() && response.complete()) {
      finish();
    }
  }

  private void finish() {
    if (finished()) {
      return;
    }
    to(Stage.FINISHED);
    body.releaseHeld();
    response.close();
    ResultFilter filtered = response.mcpFilter();
    if (filtered != null && filtered.note() != null) {
      note(filtered.note());
      if (filtered.tooLarge()) {
        services.audit().mcpToolCall(rule, mcpResultTool, "result-too-large");
      }
    }
    if (grpc) {
      noteGrpcOutcome();
    }
    long micros = (System.nanoTime() - startNanos) / 1000;
    recordOutcome(micros);
    UpstreamLink reusable = null;
    if (upstream != null) {
      // Whether the agent keeps its connection or not: the upstream one can serve the pod's next.
      if (response.leftUpstreamReusable() && body.complete()) {
        reusable = upstream;
      } else {
        upstream.close();
      }
      upstream = null;
    }
    owner.exchangeFinished(this, !closesAgentConnection(), reusable);
  }

  /** A gRPC call's method and status on its audit line, and in the gRPC calls metric. */
  private void noteGrpcOutcome() {
    Integer status = grpcLocalStatus != null ? grpcLocalStatus : response.grpcStatus();
    String method =
        grpcMethod != null && grpcMethod.method() != null
            ? grpcMethod.method()
            : normalized == null ? head.method() : shortened(normalized.path());
    note(
        "grpc: "
            + method
            + ", grpc-status "
            + (status == null ? "none" : status + " " + GrpcCall.statusName(status)));
    services
        .audit()
        .grpcCall(
            rule,
            grpcMethod == null ? "(any)" : grpcMethod.label(),
            status == null ? "none" : GrpcCall.statusName(status < 0 || status > 16 ? 2 : status));
  }

  /** The one audit line and decision metric of this request (every path ends here, once). */
  private void recordOutcome(long micros) {
    // Its in-flight slots are free now (a WebSocket splice no longer counts), and its bodies count.
    ticket.release(body.forwardedBytes() + response.bytesToAgent());
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
                response.upstreamStatus(),
                micros,
                reason,
                new Flow(
                    protocol(),
                    head.connection().destination(),
                    body.forwardedBytes(),
                    response.bytesToAgent(),
                    traceparent)));
  }

  /** {@code h2}, {@code http/1.1} (or {@code http/1.0}), {@code websocket} once switched. */
  private String protocol() {
    if (websocket) {
      return "websocket";
    }
    if (http2) {
      return "h2";
    }
    return request.protocolVersion() == HttpVersion.HTTP_1_0 ? "http/1.0" : "http/1.1";
  }
}
