package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class ResponseDecodingTest {
  private static byte[] gzip(byte[] data) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(out)) {
      g.write(data);
    }
    return out.toByteArray();
  }

  @Test
  void gzip_is_decoded_a_slice_at_a_time_so_a_bomb_never_inflates_at_once() throws Exception {
    byte[] plain = new byte[8 << 20];
    byte[] tail = "token=ghp_secret".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(tail, 0, plain, plain.length - tail.length, tail.length);
    byte[] compressed = gzip(plain);
    ResponseDecoding decoding = ResponseDecoding.forCodings(List.of("gzip"));
    decoding.offer(Unpooled.wrappedBuffer(compressed));
    long total = 0;
    int largest = 0;
    StringBuilder end = new StringBuilder();
    while (decoding.pending()) {
      ByteBuf piece = decoding.decodeSlice();
      total += piece.readableBytes();
      largest = Math.max(largest, piece.readableBytes());
      end.append(piece.toString(StandardCharsets.US_ASCII).replace("\0", ""));
      piece.release();
    }
    assertThat(total).isEqualTo(plain.length);
    assertThat(largest).as("one slice of input").isLessThanOrEqualTo(ResponseDecoding.SLICE * 1100);
    assertThat(end.toString()).endsWith("token=ghp_secret");
    assertThat(decoding.complete()).isTrue();
    decoding.close();
  }

  @Test
  void a_truncated_body_is_not_complete() throws Exception {
    byte[] compressed = gzip("hello hello hello".getBytes(StandardCharsets.US_ASCII));
    ResponseDecoding decoding = ResponseDecoding.forCodings(List.of("x-gzip"));
    decoding.offer(Unpooled.wrappedBuffer(compressed, 0, compressed.length - 4));
    while (decoding.pending()) {
      decoding.decodeSlice().release();
    }
    assertThat(decoding.complete()).isFalse();
    decoding.close();
  }

  @Test
  void identity_needs_no_decoding_and_what_cannot_be_scanned_is_refused() throws Exception {
    assertThat(ResponseDecoding.forCodings(List.of())).isNull();
    assertThat(ResponseDecoding.forCodings(List.of("identity"))).isNull();
    assertThatThrownBy(() -> ResponseDecoding.forCodings(List.of("br"))).hasMessage("br");
    assertThatThrownBy(() -> ResponseDecoding.forCodings(List.of("zstd"))).hasMessage("zstd");
    assertThatThrownBy(() -> ResponseDecoding.forCodings(List.of("gzip, gzip")))
        .hasMessage("gzip, gzip");
    assertThatThrownBy(() -> ResponseDecoding.forCodings(List.of("gzip", "br")))
        .hasMessage("gzip, br");
  }
}
