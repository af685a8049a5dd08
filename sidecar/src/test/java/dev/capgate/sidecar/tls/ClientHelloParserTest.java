package dev.capgate.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

public class ClientHelloParserTest {

  @Test
  void reads_the_server_name_of_a_real_client_hello() throws Exception {
    ByteBuf hello = Unpooled.wrappedBuffer(clientHello("API.GitHub.test"));
    int before = hello.readerIndex();
    assertThat(ClientHelloParser.parse(hello))
        .isEqualTo(new ClientHelloParser.Result.ClientHello("api.github.test"));
    assertThat(hello.readerIndex()).as("peek only").isEqualTo(before);
  }

  @Test
  void a_client_hello_without_sni_has_no_server_name() throws Exception {
    assertThat(ClientHelloParser.parse(Unpooled.wrappedBuffer(clientHello(null))))
        .isEqualTo(new ClientHelloParser.Result.ClientHello(null));
  }

  @Test
  void every_prefix_asks_for_more() throws Exception {
    byte[] hello = clientHello("example.test");
    for (int n = 0; n < hello.length; n += 37) {
      assertThat(ClientHelloParser.parse(Unpooled.wrappedBuffer(hello, 0, n)))
          .isInstanceOf(ClientHelloParser.Result.NeedMore.class);
    }
  }

  @Test
  void a_hello_split_over_two_records_is_reassembled() throws Exception {
    byte[] hello = clientHello("split.example.test");
    int bodyLength = hello.length - 5;
    int first = bodyLength / 2;
    ByteBuf two = Unpooled.buffer();
    two.writeBytes(new byte[] {22, 3, 1, (byte) (first >> 8), (byte) first});
    two.writeBytes(hello, 5, first);
    int second = bodyLength - first;
    two.writeBytes(new byte[] {22, 3, 1, (byte) (second >> 8), (byte) second});
    two.writeBytes(hello, 5 + first, second);
    assertThat(ClientHelloParser.parse(two))
        .isEqualTo(new ClientHelloParser.Result.ClientHello("split.example.test"));
  }

  @Test
  void plaintext_and_garbage_are_not_tls() {
    assertThat(
            ClientHelloParser.looksLikeTls(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n".getBytes())))
        .isFalse();
    ByteBuf garbage = Unpooled.wrappedBuffer(new byte[] {22, 9, 9, 0, 5, 1, 2, 3, 4, 5});
    assertThat(ClientHelloParser.parse(garbage))
        .isInstanceOf(ClientHelloParser.Result.NotTls.class);
  }

  @Test
  void a_lying_length_inside_the_hello_is_refused() throws Exception {
    byte[] hello = clientHello("example.test");
    // Session-id length (after 5 record + 4 handshake + 2 version + 32 random bytes) claims 255
    // bytes.
    hello[5 + 4 + 2 + 32] = (byte) 0xff;
    assertThat(ClientHelloParser.parse(Unpooled.wrappedBuffer(hello)))
        .isInstanceOfAny(
            ClientHelloParser.Result.NotTls.class, ClientHelloParser.Result.ClientHello.class);
  }

  /** The first flight of a real JDK TLS client. */
  public static byte[] clientHello(String serverName) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, null, null);
    SSLEngine engine = context.createSSLEngine(serverName == null ? null : serverName, 443);
    engine.setUseClientMode(true);
    SSLParameters params = engine.getSSLParameters();
    if (serverName != null) {
      params.setServerNames(List.of(new SNIHostName(serverName)));
    }
    engine.setSSLParameters(params);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] bytes = new byte[out.remaining()];
    out.get(bytes);
    return bytes;
  }
}
