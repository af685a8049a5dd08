package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
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
 * WebSocket over HTTP/2 (RFC 8441) is not offered: a client that sends an extended CONNECT anyway
 * gets a clear, machine-readable refusal on its stream. Both HTTP/2 ends run in memory.
 */
class Http2ExtendedConnectTest {
  @Test
  void an_extended_connect_is_refused_with_a_clear_error() {
    EmbeddedH2Termination termination = EmbeddedH2Termination.start(new ByteArrayOutputStream());
    EmbeddedChannel server = termination.server();
    EmbeddedChannel client =
        new EmbeddedChannel(
            Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings())
                .build(),
            new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));

    List<Object> answer = new ArrayList<>();
    Http2StreamChannel stream =
        new Http2StreamChannelBootstrap(client)
            .handler(
                new ChannelInboundHandlerAdapter() {
                  @Override
                  public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    answer.add(msg);
                  }
                })
            .open()
            .syncUninterruptibly()
            .getNow();
    Http2Headers headers =
        new DefaultHttp2Headers()
            .method("CONNECT")
            .scheme("https")
            .authority("api.github.test")
            .path("/chat");
    headers.set(":protocol", "websocket");
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false));
    for (int i = 0; i < 10; i++) {
      EmbeddedH2Termination.shuttle(client, server);
      EmbeddedH2Termination.shuttle(server, client);
    }

    assertThat(answer).isNotEmpty();
    Http2HeadersFrame response = (Http2HeadersFrame) answer.getFirst();
    assertThat(response.headers().status().toString()).isEqualTo("400");
    String body =
        answer.stream()
            .filter(Http2DataFrame.class::isInstance)
            .map(Http2DataFrame.class::cast)
            .map(f -> f.content().toString(StandardCharsets.UTF_8))
            .reduce("", String::concat);
    assertThat(body).contains("\"error\":\"websocket-over-http2-not-supported\"", "HTTP/1.1");
    answer.forEach(ReferenceCountUtil::release);
    termination.auditLog().close();
    client.finishAndReleaseAll();
    server.finishAndReleaseAll();
  }
}
