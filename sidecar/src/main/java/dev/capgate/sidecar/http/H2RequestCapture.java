package dev.capgate.sidecar.http;

import dev.capgate.sidecar.policy.RawRequest;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.AttributeKey;
import java.util.List;

/**
 * Records an HTTP/2 request's header fields as they arrived, before Netty's HTTP/2 → HTTP/1
 * conversion folds {@code :authority} into Host: the normalizer must see {@code :authority} and
 * any Host header apart to refuse a mismatch (invariant 5).
 */
final class H2RequestCapture extends ChannelInboundHandlerAdapter {
  static final AttributeKey<RawRequest> RAW = AttributeKey.valueOf("capgate.h2.raw");
  /** {@code :protocol} of an RFC 8441 extended CONNECT (WebSocket over HTTP/2), which is refused. */
  static final AttributeKey<String> PROTOCOL = AttributeKey.valueOf("capgate.h2.protocol");

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2HeadersFrame frame && ctx.channel().attr(RAW).get() == null) {
      Http2Headers h = frame.headers();
      ctx.channel().attr(RAW).set(new RawRequest(
          str(h.method()), str(h.path()), str(h.authority()),
          strings(h.getAll("host")), strings(h.getAll("content-length")), strings(h.getAll("transfer-encoding")),
          true));
      CharSequence protocol = h.get(":protocol");
      if (protocol != null) {
        ctx.channel().attr(PROTOCOL).set(protocol.toString());
      }
    }
    ctx.fireChannelRead(msg);
  }

  private static String str(CharSequence s) {
    return s == null ? null : s.toString();
  }

  private static List<String> strings(List<CharSequence> values) {
    return values.stream().map(CharSequence::toString).toList();
  }
}
