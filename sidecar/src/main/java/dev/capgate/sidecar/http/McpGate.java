package dev.capgate.sidecar.http;

import dev.capgate.sidecar.mcp.McpRequestJudge;
import dev.capgate.sidecar.mcp.McpVerdict;
import dev.capgate.sidecar.policy.McpRules;
import dev.capgate.sidecar.policy.NormalizedRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.ByteArrayOutputStream;

/**
 * Holds an MCP POST (a rule with {@code mcp}, to its endpoint) until its whole body is read, at
 * most {@link McpRequestJudge#MAX_BODY_BYTES}, and judges it ({@link McpRequestJudge}): nothing
 * goes upstream, not even the connection is opened, before the verdict. The chunks are held
 * meanwhile by {@link RequestBody} and go upstream unchanged when the body is allowed.
 */
final class McpGate implements BodyGate {
  private final McpRules rules;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();
  private McpVerdict verdict;
  private boolean reported;

  McpGate(McpRules rules) {
    this.rules = rules;
  }

  /** An MCP message to judge: a POST through a rule with {@code mcp}, to its endpoint. */
  static boolean applies(NormalizedRequest request, McpRules rules) {
    return rules != null && "POST".equals(request.method()) && rules.judges(request.path());
  }

  McpRules rules() {
    return rules;
  }

  @Override
  public void feed(ByteBuf chunk) {
    if (verdict != null) {
      return;
    }
    int n = chunk.readableBytes();
    if (body.size() + n > McpRequestJudge.MAX_BODY_BYTES) {
      verdict = McpRequestJudge.tooLarge(rules);
      return;
    }
    byte[] copy = new byte[n];
    chunk.getBytes(chunk.readerIndex(), copy);
    body.writeBytes(copy);
  }

  /** A body the sidecar will not judge (compressed): refused before it is read. */
  void refuseUnread(String why) {
    verdict = McpRequestJudge.unreadable(rules, why);
  }

  @Override
  public void endOfBody() {
    if (verdict == null) {
      verdict = McpRequestJudge.judge(rules, body.toByteArray());
      body.reset();
    }
  }

  @Override
  public boolean reading() {
    return verdict == null;
  }

  @Override
  public boolean takeVerdict() {
    if (reported || verdict == null) {
      return false;
    }
    reported = true;
    return true;
  }

  McpVerdict verdict() {
    return verdict;
  }

  /** The sidecar's JSON-RPC answer to a refused body. */
  static FullHttpResponse response(McpVerdict.Refuse refused, boolean close) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(refused.status()),
            Unpooled.wrappedBuffer(refused.body()));
    if (refused.body().length > 0) {
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    }
    response
        .headers()
        .setInt(HttpHeaderNames.CONTENT_LENGTH, refused.body().length)
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    if (close) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    return response;
  }
}
