package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WebSocketUpgradeTest {
  private static final String UPGRADE =
      "GET /chat HTTP/1.1\r\nHost: api.github.test\r\nUpgrade: websocket\r\n"
          + "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          + "Sec-WebSocket-Version: 13\r\n\r\n";

  @Test
  void a_websocket_upgrade_is_a_get_with_both_headers_and_no_body() {
    HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
    r.headers().add("Upgrade", "WebSocket").add("Connection", "keep-alive, Upgrade");
    assertThat(WebSocketUpgrade.isRequest(r)).isTrue();
    r.headers().set("Upgrade", "h2c");
    assertThat(WebSocketUpgrade.isRequest(r)).isFalse();
    HttpRequest post = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/");
    post.headers().add("Upgrade", "websocket").add("Connection", "Upgrade");
    assertThat(WebSocketUpgrade.isRequest(post)).isFalse();
  }

  @Test
  void the_agent_decoder_stops_after_an_upgrade_request_and_hands_early_bytes_on_when_removed() {
    AgentHttp1Codec codec = new AgentHttp1Codec();
    EmbeddedChannel ch = new EmbeddedChannel(codec);
    byte[] frame = {
      (byte) 0x81, (byte) 0x85, 1, 2, 3, 4, 'h' ^ 1, 'e' ^ 2, 'l' ^ 3, 'l' ^ 4, 'o' ^ 1
    };
    ByteBuf in =
        Unpooled.buffer().writeBytes(UPGRADE.getBytes(StandardCharsets.US_ASCII)).writeBytes(frame);
    ch.writeInbound(in);
    HttpRequest request = ch.readInbound();
    assertThat(request.uri()).isEqualTo("/chat");
    Object end = ch.readInbound();
    assertThat(end).isInstanceOf(LastHttpContent.class);
    assertThat((Object) ch.readInbound())
        .as("no second 'request' parsed out of the frame")
        .isNull();
    ch.pipeline().remove(codec);
    ByteBuf early = ch.readInbound();
    assertThat(early.readableBytes()).isEqualTo(frame.length);
    early.release();
    ch.finishAndReleaseAll();
  }

  @Test
  void ordinary_keep_alive_requests_are_still_decoded_one_after_the_other() {
    EmbeddedChannel ch = new EmbeddedChannel(new AgentHttp1Codec());
    String two = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    ch.writeInbound(Unpooled.copiedBuffer(two, StandardCharsets.US_ASCII));
    assertThat(((HttpRequest) ch.readInbound()).uri()).isEqualTo("/a");
    assertThat((Object) ch.readInbound()).isInstanceOf(HttpContent.class);
    assertThat(((HttpRequest) ch.readInbound()).uri()).isEqualTo("/b");
    ch.finishAndReleaseAll();
  }
}
