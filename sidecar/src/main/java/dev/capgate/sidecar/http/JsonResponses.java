package dev.capgate.sidecar.http;

import dev.capgate.sidecar.audit.Denial;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * The sidecar's own answers: small RFC 9457 problem bodies ({@link Denial}) the agent (a program)
 * can act on.
 */
final class JsonResponses {
  private JsonResponses() {}

  static FullHttpResponse of(HttpResponseStatus status, String json, boolean close) {
    return of(status, json, close, 0);
  }

  /**
   * @param retryAfterSeconds {@code Retry-After} in whole seconds (RFC 9110 §10.2.3); 0 for none
   */
  static FullHttpResponse of(
      HttpResponseStatus status, String json, boolean close, long retryAfterSeconds) {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    response
        .headers()
        .set(HttpHeaderNames.CONTENT_TYPE, Denial.CONTENT_TYPE)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    if (close) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    if (retryAfterSeconds > 0) {
      response.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(retryAfterSeconds));
    }
    return response;
  }
}
