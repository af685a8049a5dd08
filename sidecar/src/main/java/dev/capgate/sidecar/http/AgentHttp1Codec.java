package dev.capgate.sidecar.http;

import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * HTTP/1.1 toward the agent: Netty's decoder and encoder, with two changes that matter here.
 *
 * <p>Netty's decoder quietly drops Content-Length when Transfer-Encoding is also present (RFC 9112
 * lets a server do that); this one keeps both, so the request normalizer sees the ambiguity and
 * the sidecar rejects the request (invariant 5: CL+TE is a smuggling vector, refuse, don't repair).
 *
 * <p>The encoder is told when the current request is a HEAD, whose response has no body even when
 * its headers announce one (what HttpServerCodec tracks internally).
 */
final class AgentHttp1Codec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {
  private static final HttpDecoderConfig CONFIG = new HttpDecoderConfig()
      .setMaxInitialLineLength(8192)
      .setMaxHeaderSize(16384)
      .setMaxChunkSize(65536)
      .setValidateHeaders(true)
      .setStrictLineParsing(true);

  private boolean headRequest;

  AgentHttp1Codec() {
    init(new HttpRequestDecoder(CONFIG) {
      @Override
      protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        // keep both headers: the normalizer refuses the request
      }
    }, new HttpResponseEncoder() {
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
