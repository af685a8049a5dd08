package dev.capgate.sidecar.http;

import dev.capgate.sidecar.upstream.TcpRelay;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The one protocol upgrade the sidecar carries out: WebSocket over HTTP/1.1 (RFC 6455). The upgrade
 * request is an ordinary request to policy (a GET on an allowed path, with the rule's credential
 * injected); once the upstream answers 101 the connection becomes a byte splice both ways. Any
 * other {@code Upgrade} (h2c, TLS/1.0, ...) is dropped like every hop-by-hop header.
 */
final class WebSocketUpgrade {
  private WebSocketUpgrade() {}

  /** {@code GET} with {@code Upgrade: websocket}, {@code Connection: upgrade}, and no body. */
  static boolean isRequest(HttpRequest request) {
    HttpHeaders h = request.headers();
    return HttpMethod.GET.equals(request.method())
        && h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
        && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
        && !h.contains(HttpHeaderNames.TRANSFER_ENCODING)
        && (!h.contains(HttpHeaderNames.CONTENT_LENGTH)
            || "0".equals(h.get(HttpHeaderNames.CONTENT_LENGTH).strip()));
  }

  /** The upstream switched to WebSocket. */
  static boolean isAcceptance(HttpResponse response) {
    return response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()
        && response
            .headers()
            .containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
  }

  /**
   * The 101 the agent gets: the upstream's end-to-end headers (credential masked), upgrade headers
   * set.
   */
  static FullHttpResponse responseForAgent(HttpResponse upstream, SecretScrubber scrubber) {
    FullHttpResponse out =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS, Unpooled.EMPTY_BUFFER);
    HopByHop.copyEndToEnd(upstream.headers(), out.headers());
    setUpgradeHeaders(out.headers());
    if (scrubber != null) {
      scrubber.scrub(out.headers());
    }
    return out;
  }

  /**
   * Upstream-to-agent bytes of the splice, with the injected credential masked (frames keep their
   * length).
   */
  static TcpRelay.Transform masking(SecretScrubber scrubber) {
    return new TcpRelay.Transform() {
      @Override
      public ByteBuf apply(ByteBuf in) {
        return scrubber.scrub(in, false);
      }

      @Override
      public ByteBuf end() {
        return scrubber.scrub(Unpooled.EMPTY_BUFFER, true);
      }
    };
  }

  /** Upgrade headers on a message that carries the upgrade on to the next hop. */
  static void setUpgradeHeaders(HttpHeaders headers) {
    headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    headers.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
  }
}
