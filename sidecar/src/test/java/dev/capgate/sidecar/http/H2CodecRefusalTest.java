package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A stream Netty's HTTP/2 codec refuses on its own (here: an upper-case header field name, RFC 9113
 * §8.2.1) is reset with the spec's code AND leaves one audit line, though no exchange ever saw it.
 * Both HTTP/2 ends run in memory.
 */
class H2CodecRefusalTest {
  @Test
  void a_stream_the_codec_resets_has_its_audit_line_and_the_value_is_not_in_it() throws Exception {
    ByteArrayOutputStream auditOut = new ByteArrayOutputStream();
    EmbeddedH2Termination termination = EmbeddedH2Termination.start(auditOut);
    EmbeddedChannel server = termination.server();
    EmbeddedChannel client =
        new EmbeddedChannel(
            Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings())
                .validateHeaders(false)
                .build(),
            new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));

    List<Object> answer = new ArrayList<>();
    for (int i = 0; i < 2; i++) { // two refused streams: two lines, no more
      Http2StreamChannel stream =
          new Http2StreamChannelBootstrap(client)
              .handler(
                  new ChannelInboundHandlerAdapter() {
                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                      answer.add(event);
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                      answer.add(msg);
                    }
                  })
              .open()
              .syncUninterruptibly()
              .getNow();
      Http2Headers headers =
          new DefaultHttp2Headers(false)
              .method("GET")
              .scheme("https")
              .authority("api.github.test")
              .path("/repos/acme/a");
      headers.add("X-Secret", "hunter2-do-not-log");
      stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true));
      for (int j = 0; j < 10; j++) {
        EmbeddedH2Termination.shuttle(client, server);
        EmbeddedH2Termination.shuttle(server, client);
      }
    }

    assertThat(answer)
        .filteredOn(Http2ResetFrame.class::isInstance)
        .extracting(f -> ((Http2ResetFrame) f).errorCode())
        .containsExactly(Http2Error.PROTOCOL_ERROR.code(), Http2Error.PROTOCOL_ERROR.code());
    termination.auditLog().close();
    List<String> lines = auditOut.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines)
        .allSatisfy(
            line ->
                assertThat(line)
                    .contains(
                        "\"decision\":\"deny\"",
                        "\"host\":\"api.github.test\"",
                        "\"reason\":\"h2-stream-refused: PROTOCOL_ERROR")
                    .doesNotContain("hunter2"));
    answer.forEach(ReferenceCountUtil::release);
    client.finishAndReleaseAll();
    server.finishAndReleaseAll();
  }
}
