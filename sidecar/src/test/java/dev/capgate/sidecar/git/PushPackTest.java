package dev.capgate.sidecar.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PushPackTest {
  private static ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
  }

  @Test
  void holds_the_chunks_from_the_offset_and_skips_push_options() throws Exception {
    ByteBuf first = bytes("0000" + "000fci.skip=yes" + "0000PA");
    ByteBuf second = bytes("CK rest");
    PushPack pack = new PushPack(1024, true);
    pack.add(first, 4); // the commands' flush belongs to the command section
    pack.add(second, 0);
    assertThat(first.refCnt()).isEqualTo(2); // held, not copied
    ByteBuf taken = pack.take();
    assertThat(taken.toString(StandardCharsets.ISO_8859_1)).isEqualTo("PACK rest");
    taken.release();
    pack.release();
    assertThat(first.refCnt()).isEqualTo(1);
    assertThat(second.refCnt()).isEqualTo(1);
  }

  @Test
  void past_the_bound_nothing_is_held() {
    ByteBuf chunk = Unpooled.wrappedBuffer(new byte[100 * 1024]);
    PushPack pack = new PushPack(10, false);
    pack.add(chunk, 0);
    assertThat(pack.over()).isTrue();
    assertThat(chunk.refCnt()).isEqualTo(1);
  }

  @Test
  void a_pack_over_the_bound_once_options_are_skipped_is_refused_and_released() {
    ByteBuf chunk = bytes("PACK and more than ten bytes");
    PushPack pack = new PushPack(10, false);
    pack.add(chunk, 0);
    assertThatThrownBy(pack::take).isInstanceOf(MalformedPackException.class);
    assertThat(pack.over()).isTrue();
    assertThat(chunk.refCnt()).isEqualTo(1);
  }

  @Test
  void options_that_are_not_pkt_lines_are_malformed() {
    ByteBuf chunk = bytes("zzzzPACK");
    PushPack pack = new PushPack(1024, true);
    pack.add(chunk, 0);
    assertThatThrownBy(pack::take)
        .isInstanceOf(MalformedPackException.class)
        .hasMessage("the push options are not pkt-lines");
    assertThat(chunk.refCnt()).isEqualTo(1);
  }
}
