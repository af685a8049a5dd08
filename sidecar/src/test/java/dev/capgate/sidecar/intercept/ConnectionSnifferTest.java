package dev.capgate.sidecar.intercept;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.policy.ConnectionKind;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ConnectionSnifferTest {
  private final AtomicReference<Sniffed> seen = new AtomicReference<>();
  private final EmbeddedChannel channel =
      new EmbeddedChannel(
          new ConnectionSniffer(Duration.ofSeconds(30), (ctx, sniffed) -> seen.set(sniffed)));

  @Test
  void plaintext_http_yields_the_host_without_port() {
    write("GET /repos?x=1 HTTP/1.1\r\nHost: API.GitHub.test:80\r\n");
    assertThat(seen.get()).isNull();
    write("Accept: */*\r\n\r\n");
    assertThat(seen.get())
        .isEqualTo(
            new Sniffed(ConnectionKind.PLAINTEXT_HTTP, "api.github.test", "GET", "/repos?x=1"));
  }

  @Test
  void a_tls_client_hello_yields_its_sni() throws Exception {
    channel.writeInbound(
        Unpooled.wrappedBuffer(
            dev.capgate.sidecar.tls.ClientHelloParserTest.clientHello("evil.test")));
    assertThat(seen.get()).isEqualTo(new Sniffed(ConnectionKind.TLS, "evil.test", null, null));
  }

  @Test
  void anything_else_is_other_at_once() {
    write("SSH-2.0-OpenSSH_9.2\r\n");
    assertThat(seen.get().kind()).isEqualTo(ConnectionKind.OTHER);
  }

  private void write(String s) {
    channel.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
  }
}
