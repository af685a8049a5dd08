package dev.capgate.sidecar.http;

import dev.capgate.sidecar.mcp.ResultFilter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.Locale;

/**
 * The answer to the agent of one {@link Exchange}: the upstream's response on its way back, or the
 * sidecar's own local answer. It skips the upstream's 1xx (the agent heard "continue" from the
 * sidecar), writes the final head with hop-by-hop fields dropped and every known credential value
 * masked ({@link SecretScrubber}), streams the body with back-pressure (a body the upstream
 * compressed although asked not to is decoded first, {@link ResponseDecoding}), masks the trailers,
 * and hands a WebSocket 101 to the exchange for the splice. Everything this exchange writes to the
 * agent goes through here, so {@link #lastWrite} is the last of it.
 *
 * <p>It decides nothing about policy; what ends the exchange (a broken or unscannable response, the
 * last chunk written) it reports to its {@link Exchange}.
 */
final class ResponseRelay {

  /**
   * Where the answer to the agent stands. Every change goes through {@link #to}; the allowed moves
   * are listed in {@link #canMoveTo} and nowhere else.
   */
  enum State {
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

    boolean canMoveTo(State next) {
      return switch (this) {
        case PENDING -> next != PENDING;
        case SKIPPING_INFORMATIONAL -> next == PENDING || next == LOCAL;
        case RELAYING -> next == RELAYED;
        case RELAYED, LOCAL -> false;
      };
    }
  }

  private final Exchange exchange;
  private final ChannelHandlerContext agent;
  private final boolean http2;

  /** A HEAD request: whatever the upstream's head says, no body follows it. */
  private final boolean headRequest;

  private State state = State.PENDING;

  /** The final status the upstream answered (null: none yet, or a local answer). */
  private Integer upstreamStatus;

  /** For the audit line's {@code bytesIn}. */
  private long toAgent;

  /** The {@code grpc-status} the upstream's trailers carried (null: none, or not a gRPC call). */
  private Integer grpcStatus;

  /** The upstream's final head said its connection may serve another request. */
  private boolean upstreamKeepAlive;

  /** Masks the known credential values (null: the exchange injects none and none are known). */
  private SecretScrubber scrubber;

  /** Decodes a body the upstream compressed although asked not to (null: not encoded). */
  private ResponseDecoding decoding;

  /** The upstream's trailers, once its compressed body has ended (null until then). */
  private HttpHeaders decodedTrailers;

  private ChannelFuture lastWrite;

  /** Filters MCP answers to tools/list and tools/call (null: the request held none). */
  private ResultFilter mcp;

  /** The MCP answer's body as a whole JSON document, held to the limit (null: not such a body). */
  private ByteArrayOutputStream mcpJson;

  /** The MCP JSON answer went over the limit: the rest of it is dropped. */
  private boolean mcpJsonOverflow;

  /** The MCP answer as an event stream, filtered event by event (null: not such a body). */
  private ResultFilter.Sse mcpSse;

  ResponseRelay(
      Exchange exchange, ChannelHandlerContext agent, boolean http2, boolean headRequest) {
    this.exchange = exchange;
    this.agent = agent;
    this.http2 = http2;
    this.headRequest = headRequest;
  }

  private void to(State next) {
    assert state.canMoveTo(next) : state + " -> " + next;
    state = next;
  }

  State state() {
    return state;
  }

  /** Something of the answer went to the agent (a response head, or the local answer). */
  boolean started() {
    return state == State.RELAYING || state == State.RELAYED || state == State.LOCAL;
  }

  /** The whole answer went to the agent. */
  boolean complete() {
    return state == State.RELAYED || state == State.LOCAL;
  }

  boolean local() {
    return state == State.LOCAL;
  }

  /** The upstream answered whole and said its connection may serve another request. */
  boolean leftUpstreamReusable() {
    return state == State.RELAYED && upstreamKeepAlive;
  }

  /** Response body bytes written to the agent so far (after scrubbing; a local answer's too). */
  long bytesToAgent() {
    return toAgent;
  }

  Integer upstreamStatus() {
    return upstreamStatus;
  }

  Integer grpcStatus() {
    return grpcStatus;
  }

  SecretScrubber scrubber() {
    return scrubber;
  }

  /** The values to mask from now on (every value resolved so far, this exchange's included). */
  void scrubWith(SecretScrubber scrubber) {
    this.scrubber = scrubber;
  }

  /** The answer is filtered for MCP (see {@link ResultFilter}). */
  void filterMcp(ResultFilter filter) {
    this.mcp = filter;
  }

  ResultFilter mcpFilter() {
    return mcp;
  }

  ChannelFuture lastWrite() {
    return lastWrite != null ? lastWrite : agent.newSucceededFuture();
  }

  /** The sidecar answers instead of the upstream: nothing of the upstream's follows it. */
  void answerLocally(FullHttpResponse answer) {
    to(State.LOCAL);
    toAgent += answer.content().readableBytes();
    lastWrite = agent.writeAndFlush(answer);
  }

  /** The exchange ended: what is still being decoded is dropped. */
  void close() {
    if (decoding != null) {
      decoding.close();
    }
  }

  // ---------------------------------------------------------------- from the upstream

  void onUpstreamMessage(Object msg) {
    if (exchange.finished() || state == State.LOCAL) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (exchange.grpc()
        && msg instanceof FullHttpResponse full
        && !full.content().isReadable()
        && full.trailingHeaders().isEmpty()
        && full.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
      // A trailers-only answer (HEADERS with END_STREAM, grpc-status in it): passed on as one, as
      // gRPC clients want it (a head, then an empty end without trailers, would have no status).
      grpcStatus = GrpcCall.statusOf(full.headers());
      startResponse(full, true);
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse upstreamHead) {
      if (exchange.upgrade() && WebSocketUpgrade.isAcceptance(upstreamHead)) {
        ReferenceCountUtil.release(msg);
        switchToWebSocket(upstreamHead);
        return;
      }
      if (upstreamHead.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        // 100/103 from upstream: the agent already got its "continue" from us
        to(State.SKIPPING_INFORMATIONAL);
      } else {
        startResponse(upstreamHead, false);
        if (state == State.LOCAL) {
          ReferenceCountUtil.release(
              msg); // refused (a coding the scrubber cannot read): none of its body goes on
          return;
        }
      }
    }
    if (msg instanceof HttpContent content) {
      if (state == State.SKIPPING_INFORMATIONAL) {
        if (content instanceof LastHttpContent) {
          to(State.PENDING);
        }
        content.release();
        return;
      }
      relayContent(content);
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  /** The upstream delivered what it had for now: send it on to the agent. */
  void onUpstreamReadComplete() {
    if (started() && state != State.LOCAL) {
      agent.flush();
    }
  }

  /** The agent can take more (or no more): resume decoding, and upstream reads, or pause them. */
  void onAgentWritabilityChanged(boolean writable) {
    if (writable
        && decoding != null
        && decoding.pending()
        && !exchange.finished()
        && state != State.LOCAL) {
      pumpDecoded();
    }
    Channel upstream = exchange.upstreamChannel();
    if (upstream != null && state == State.RELAYING) {
      upstream.config().setAutoRead(writable && (decoding == null || !decoding.pending()));
    }
  }

  // ---------------------------------------------------------------- head

  /**
   * @param trailersOnly the head is the whole answer (a gRPC trailers-only response): written as
   *     one full response, which the agent's HTTP/2 codec sends as one HEADERS frame with
   *     END_STREAM
   */
  private void startResponse(HttpResponse response, boolean trailersOnly) {
    upstreamStatus = response.status().code();
    upstreamKeepAlive = HttpUtil.isKeepAlive(response);
    String length = response.headers().get(HttpHeaderNames.CONTENT_LENGTH);
    HttpResponseStatus status = response.status();
    if (mcp != null && mayHaveBody(response) && !"0".equals(length)) {
      String type = response.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
      type = type.strip().toLowerCase(Locale.ROOT);
      boolean json = type.startsWith("application/json");
      boolean sse = type.startsWith("text/event-stream");
      if (json || sse) {
        String coding = response.headers().get(HttpHeaderNames.CONTENT_ENCODING);
        if (coding != null && !HttpHeaderValues.IDENTITY.contentEqualsIgnoreCase(coding.strip())) {
          // The sidecar asked for identity; a compressed MCP answer could not be filtered.
          exchange.unscannableResponse(coding);
          return;
        }
        mcpJson = json ? new ByteArrayOutputStream() : null;
        mcpSse = sse ? mcp.sse() : null;
        length = null; // filtered: the length is known only at the end
      }
    }
    if (scrubber != null && exchange.grpc()) {
      String coding = response.headers().get("grpc-encoding");
      if (coding != null && !HttpHeaderValues.IDENTITY.contentEqualsIgnoreCase(coding.strip())) {
        // The sidecar asked for identity (grpc-accept-encoding); compressed messages would hide an
        // echoed credential from the scrubber.
        exchange.unscannableResponse("grpc-encoding " + coding);
        return;
      }
    }
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
          exchange.unscannableResponse(e.getMessage());
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
    } else if (mcpJson != null || mcpSse != null) {
      out.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
      if (!http2) {
        HttpUtil.setTransferEncodingChunked(out, true);
      }
    } else if (!http2 && mayHaveBody(response)) {
      HttpUtil.setTransferEncodingChunked(out, true);
    }
    if (scrubber != null) {
      scrubber.scrub(out.headers());
    }
    if (exchange.closesAgentConnection() && !http2) {
      out.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    to(State.RELAYING);
    if (trailersOnly) {
      lastWrite =
          agent.writeAndFlush(
              new io.netty.handler.codec.http.DefaultFullHttpResponse(
                  HttpVersion.HTTP_1_1,
                  out.status(),
                  Unpooled.EMPTY_BUFFER,
                  out.headers(),
                  io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE));
      to(State.RELAYED);
      exchange.responseRelayed();
      return;
    }
    lastWrite = agent.write(out);
  }

  private boolean mayHaveBody(HttpResponse response) {
    int code = response.status().code();
    return !headRequest && code != 204 && code != 304;
  }

  // ---------------------------------------------------------------- body and trailers

  private void relayContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (last && exchange.grpc()) {
      grpcStatus = GrpcCall.statusOf(((LastHttpContent) content).trailingHeaders());
    }
    if (mcpJson != null || mcpSse != null) {
      relayMcp(content, last);
      return;
    }
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

  /**
   * An MCP answer's chunk: a JSON body is held (to the limit) and filtered whole at its end, an
   * event stream is passed on event by event as they complete; masked after filtering.
   */
  private void relayMcp(HttpContent content, boolean last) {
    ByteBuf in = content.content();
    byte[] bytes;
    if (mcpJson != null) {
      if (!mcpJsonOverflow) {
        if (mcpJson.size() + in.readableBytes() > mcp.limit()) {
          mcpJsonOverflow = true;
          mcpJson = new ByteArrayOutputStream(0);
        } else {
          try {
            in.getBytes(in.readerIndex(), mcpJson, in.readableBytes());
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      }
      bytes =
          !last
              ? new byte[0]
              : mcpJsonOverflow ? mcp.jsonTooLarge() : mcp.json(mcpJson.toByteArray());
    } else {
      byte[] chunk = new byte[in.readableBytes()];
      in.getBytes(in.readerIndex(), chunk);
      bytes = mcpSse.feed(chunk);
      if (last) {
        byte[] rest = mcpSse.finish();
        if (rest.length > 0) {
          byte[] all = new byte[bytes.length + rest.length];
          System.arraycopy(bytes, 0, all, 0, bytes.length);
          System.arraycopy(rest, 0, all, bytes.length, rest.length);
          bytes = all;
        }
      }
    }
    HttpHeaders trailers = last ? ((LastHttpContent) content).trailingHeaders().copy() : null;
    content.release();
    if (!last && bytes.length == 0) {
      return; // nothing whole yet (an empty chunk would end a chunked body)
    }
    ByteBuf filtered = Unpooled.wrappedBuffer(bytes);
    HttpContent out;
    if (scrubber != null) {
      out = scrubbed(filtered, trailers);
    } else {
      out =
          last ? new DefaultLastHttpContent(filtered, trailers) : new DefaultHttpContent(filtered);
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
    // Empty trailers (nearly every response) go on as they came: a copy was a headers object per
    // response, and there is nothing in them to mask.
    LastHttpContent out =
        new DefaultLastHttpContent(masked, trailers.isEmpty() ? trailers : trailers.copy());
    scrubber.scrub(out.trailingHeaders());
    return out;
  }

  private void writeToAgent(HttpContent out, boolean last) {
    // Flushed once per upstream read burst (onUpstreamReadComplete) or at the end, not per chunk.
    toAgent += out.content().readableBytes();
    lastWrite = last ? agent.writeAndFlush(out) : agent.write(out);
    Channel upstream = exchange.upstreamChannel();
    if (!agent.channel().isWritable() && upstream != null) {
      upstream.config().setAutoRead(false); // resumed by onAgentWritabilityChanged
    }
    if (last) {
      to(State.RELAYED);
      exchange.responseRelayed();
    }
  }

  /**
   * Decodes, scrubs and writes as much of a compressed body as the agent takes now, a slice at a
   * time; the rest waits (upstream reads paused) until the agent is writable again.
   */
  private void pumpDecoded() {
    boolean wrote = false;
    try {
      while (decoding.pending() && agent.channel().isWritable() && !exchange.finished()) {
        ByteBuf piece = decoding.decodeSlice();
        if (piece.isReadable()) {
          writeToAgent(scrubbed(piece, null), false);
          wrote = true;
        } else {
          piece.release();
        }
      }
    } catch (RuntimeException e) {
      exchange.brokenResponse(
          "upstream-bad-encoding: the upstream's compressed body does not decode ("
              + e.getClass().getSimpleName()
              + ")");
      return;
    }
    if (exchange.finished()) {
      return;
    }
    if (!decoding.pending() && decodedTrailers != null) {
      if (!decoding.complete()) {
        exchange.brokenResponse(
            "upstream-bad-encoding: the upstream's compressed body ended early");
        return;
      }
      HttpHeaders trailers = decodedTrailers;
      decodedTrailers = null;
      writeToAgent(scrubbed(Unpooled.EMPTY_BUFFER, trailers), true);
      return;
    }
    if (wrote) {
      agent.flush();
    }
    Channel upstream = exchange.upstreamChannel();
    if (decoding.pending() && upstream != null) {
      upstream.config().setAutoRead(false); // resumed once the pending input is decoded
    }
  }

  // ---------------------------------------------------------------- WebSocket

  /**
   * The upstream accepted the WebSocket upgrade: the agent gets the 101 (credential masked out of
   * its headers), and the exchange ends and hands both connections to a byte splice, whose
   * upstream-to-agent bytes still pass the scrubber when there is one. Runs while the upstream's
   * HTTP decoder is delivering the 101: its remaining output (frames the upstream sent right behind
   * the 101) reaches the splice, in order.
   */
  private void switchToWebSocket(HttpResponse response) {
    upstreamStatus = response.status().code();
    to(State.RELAYED);
    lastWrite = agent.writeAndFlush(WebSocketUpgrade.responseForAgent(response, scrubber));
    exchange.switchedToWebSocket(scrubber == null ? null : WebSocketUpgrade.masking(scrubber));
  }
}
