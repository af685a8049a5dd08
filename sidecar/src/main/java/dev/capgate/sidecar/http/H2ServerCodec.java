package dev.capgate.sidecar.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import java.util.logging.Logger;

/**
 * Netty's HTTP/2 server codec, plus an audit line for each stream it refuses on its own: a request
 * head that breaks RFC 9113 in a way the codec checks (an upper-case or connection-specific field
 * name, an unknown, repeated or misplaced pseudo-header, TE other than trailers), or a stream
 * beyond the concurrency limit, is reset with the spec's code before any stream channel, and so any
 * {@link Exchange}, exists. Without this such a stream left no trace but the reset.
 *
 * <p>One line per refused stream, not per frame: only a stream newer than every stream the codec
 * created and every stream already audited here counts (frames on a stream that had an exchange are
 * that exchange's business, and its line exists). The line names the HTTP/2 error code only: the
 * codec's message may quote the agent's header fields.
 */
final class H2ServerCodec extends Http2FrameCodec {
  private static final Logger LOG = Logger.getLogger(H2ServerCodec.class.getName());

  private final RefusedStreams refusals;
  private int lastAudited;

  private H2ServerCodec(
      Http2ConnectionEncoder encoder,
      Http2ConnectionDecoder decoder,
      Http2Settings settings,
      boolean decoupleCloseAndGoAway,
      boolean flushPreface,
      RefusedStreams refusals) {
    super(encoder, decoder, settings, decoupleCloseAndGoAway, flushPreface);
    this.refusals = refusals;
  }

  /** The server codec of one agent connection, with the sidecar's settings. */
  static H2ServerCodec create(Http2Settings settings, RefusedStreams refusals) {
    return (H2ServerCodec)
        new Builder(refusals).initialSettings(settings).validateHeaders(true).build();
  }

  @Override
  public void onError(ChannelHandlerContext ctx, boolean outbound, Throwable cause) {
    if (!outbound
        && Http2CodecUtil.getEmbeddedHttp2Exception(cause)
            instanceof Http2Exception.StreamException e
        && neverBecameAStream(e.streamId())) {
      lastAudited = e.streamId();
      LOG.fine("HTTP/2 stream " + e.streamId() + " refused by the codec: " + e.error());
      refusals.recordOutcome(
          null,
          null,
          "h2-stream-refused: "
              + e.error()
              + " (reset by the HTTP/2 codec before it reached policy)");
    }
    super.onError(ctx, outbound, cause);
  }

  private boolean neverBecameAStream(int streamId) {
    Http2Connection connection = connection();
    return connection.stream(streamId) == null
        && streamId > connection.remote().lastStreamCreated()
        && streamId > lastAudited;
  }

  private static final class Builder extends Http2FrameCodecBuilder {
    private final RefusedStreams refusals;

    Builder(RefusedStreams refusals) {
      this.refusals = refusals;
      server(true);
    }

    @Override
    protected Http2FrameCodec build(
        Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings) {
      H2ServerCodec codec =
          new H2ServerCodec(
              encoder, decoder, settings, decoupleCloseAndGoAway(), flushPreface(), refusals);
      codec.gracefulShutdownTimeoutMillis(gracefulShutdownTimeoutMillis());
      return codec;
    }
  }
}
