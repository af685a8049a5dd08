package dev.capgate.sidecar.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.util.List;

/**
 * HTTP/1.1 toward the agent: Netty's decoder and encoder, with two changes that matter here.
 *
 * <p>Netty's decoder quietly drops Content-Length when Transfer-Encoding is also present (RFC 9112
 * lets a server do that); this one keeps both, so the request normalizer sees the ambiguity and the
 * sidecar rejects the request (invariant 5: CL+TE is a smuggling vector, refuse, don't repair).
 *
 * <p>The encoder is told when the current request is a HEAD, whose response has no body even when
 * its headers announce one (what HttpServerCodec tracks internally).
 *
 * <p>The decoder stops at a WebSocket upgrade request (see {@link WebSocketUpgrade}).
 */
final class AgentHttp1Codec
    extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {
  private static final HttpDecoderConfig CONFIG =
      new HttpDecoderConfig()
          .setMaxInitialLineLength(8192)
          .setMaxHeaderSize(16384)
          .setMaxChunkSize(65536)
          .setValidateHeaders(true)
          .setStrictLineParsing(true);

  private boolean headRequest;

  /**
   * After a WebSocket upgrade request nothing more is parsed as HTTP: what follows is either
   * WebSocket frames (once the upstream switched; the decoder is then removed and hands its
   * buffered bytes to the splice) or nothing (the connection closes after a refused upgrade).
   */
  private boolean upgradeRequested;

  AgentHttp1Codec() {
    init(
        new HttpRequestDecoder(CONFIG) {
          @Override
          protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
            // keep both headers: the normalizer refuses the request
          }

          @Override
          protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
              throws Exception {
            if (upgradeRequested) {
              return; // see below: the bytes stay in the cumulation buffer
            }
            int before = out.size();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
              if (out.get(i) instanceof HttpRequest request
                  && WebSocketUpgrade.isRequest(request)) {
                upgradeRequested = true;
              }
            }
          }
        },
        new HttpResponseEncoder() {
          @Override
          protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            return headRequest || super.isContentAlwaysEmpty(msg);
          }
        });
  }

  void currentRequestIsHead(boolean head) {
    this.headRequest = head;
  }
}
