package dev.capgate.sidecar.http;

import dev.capgate.sidecar.policy.RawRequest;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.AsciiString;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.logging.Logger;

/**
 * Records an HTTP/2 request's header fields as they arrived, before Netty's HTTP/2 → HTTP/1
 * conversion folds {@code :authority} into Host: the normalizer must see {@code :authority} and any
 * Host header apart to refuse a mismatch (invariant 5).
 *
 * <p>Also refuses a malformed request head (RFC 9113 §8.3.1: a missing {@code :method}, {@code
 * :scheme} or {@code :path}, or a CONNECT with {@code :scheme}/{@code :path}) the way the spec
 * requires, a stream error PROTOCOL_ERROR, with an audit line: the conversion to HTTP/1 would
 * otherwise fail without either (or, for a missing {@code :scheme}, pass the request on).
 */
final class H2RequestCapture extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = Logger.getLogger(H2RequestCapture.class.getName());
  static final AttributeKey<RawRequest> RAW = AttributeKey.valueOf("capgate.h2.raw");

  /**
   * {@code :protocol} of an RFC 8441 extended CONNECT (WebSocket over HTTP/2), which is refused.
   */
  static final AttributeKey<String> PROTOCOL = AttributeKey.valueOf("capgate.h2.protocol");

  private final RefusedStreams refusals;
  private boolean refused;

  H2RequestCapture(RefusedStreams refusals) {
    this.refusals = refusals;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused) {
      ReferenceCountUtil.release(msg); // the rest of a stream we reset
      return;
    }
    if (msg instanceof Http2HeadersFrame frame && ctx.channel().attr(RAW).get() == null) {
      Http2Headers h = frame.headers();
      String malformed = malformation(h);
      if (malformed != null) {
        refuse(ctx, h, malformed);
        ReferenceCountUtil.release(msg);
        return;
      }
      ctx.channel()
          .attr(RAW)
          .set(
              new RawRequest(
                  str(h.method()),
                  str(h.path()),
                  str(h.authority()),
                  strings(h, HttpHeaderNames.HOST),
                  strings(h, HttpHeaderNames.CONTENT_LENGTH),
                  strings(h, HttpHeaderNames.TRANSFER_ENCODING),
                  true));
      CharSequence protocol = h.get(":protocol");
      if (protocol != null) {
        ctx.channel().attr(PROTOCOL).set(protocol.toString());
      }
    }
    ctx.fireChannelRead(msg);
  }

  /** Why a request head is malformed (RFC 9113 §8.3.1, RFC 8441 §4), or null when it is not. */
  static String malformation(Http2Headers h) {
    if (h.method() == null) {
      return "missing :method";
    }
    boolean connect = "CONNECT".contentEquals(h.method());
    boolean extendedConnect = connect && h.contains(":protocol");
    if (connect && !extendedConnect) {
      return h.scheme() != null || h.path() != null ? "CONNECT with :scheme or :path" : null;
    }
    if (h.scheme() == null) {
      return "missing :scheme";
    }
    if (h.path() == null || h.path().length() == 0) {
      return "missing or empty :path";
    }
    return null;
  }

  private void refuse(ChannelHandlerContext ctx, Http2Headers h, String why) {
    refused = true;
    String reason = "malformed-request: " + why;
    LOG.fine("HTTP/2 stream reset, " + reason);
    refusals.recordOutcome(str(h.method()), str(h.path()), reason);
    // The reset goes out before the close, so the stream ends with PROTOCOL_ERROR, not CANCEL.
    ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR))
        .addListener(ChannelFutureListener.CLOSE);
  }

  private static String str(CharSequence s) {
    return s == null ? null : s.toString();
  }

  /** The values of one field, as Strings; an empty list, and nothing allocated, if absent. */
  private static List<String> strings(Http2Headers h, AsciiString name) {
    if (!h.contains(name)) {
      return List.of();
    }
    List<String> values = new ArrayList<>(1);
    for (Iterator<CharSequence> it = h.valueIterator(name); it.hasNext(); ) {
      values.add(it.next().toString());
    }
    return List.copyOf(values);
  }
}
