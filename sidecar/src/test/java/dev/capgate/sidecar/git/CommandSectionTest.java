package dev.capgate.sidecar.git;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.policy.RefUpdate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CommandSectionTest {
  static final String ZERO = "0".repeat(40);
  static final String A = "a".repeat(40);
  static final String B = "b".repeat(40);

  static byte[] pkt(String payload) {
    byte[] bytes = payload.getBytes(StandardCharsets.ISO_8859_1);
    return (String.format("%04x", bytes.length + 4) + payload)
        .getBytes(StandardCharsets.ISO_8859_1);
  }

  /** What git sends: commands, flush, then the pack (here a stand-in). */
  static byte[] push(String... commands) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String command : commands) {
      out.writeBytes(pkt(command));
    }
    out.writeBytes(
        "0000PACK\0\0\0\2garbage that is never read".getBytes(StandardCharsets.ISO_8859_1));
    return out.toByteArray();
  }

  @Test
  void reads_the_commands_and_capabilities_and_leaves_the_chunk_unconsumed() {
    ByteBuf body =
        Unpooled.wrappedBuffer(
            push(
                ZERO
                    + " "
                    + A
                    + " refs/heads/agent/x\0 report-status side-band-64k agent=git/2.39\n",
                B + " " + ZERO + " refs/heads/old\n",
                A + " " + B + " refs/tags/v1\n"));
    CommandSection section = new CommandSection();
    section.feed(body);
    assertThat(body.readerIndex()).isZero();
    CommandSection.Commands commands = (CommandSection.Commands) section.result();
    assertThat(commands.updates())
        .containsExactly(
            new RefUpdate(ZERO, A, "refs/heads/agent/x"),
            new RefUpdate(B, ZERO, "refs/heads/old"),
            new RefUpdate(A, B, "refs/tags/v1"));
    assertThat(commands.updates())
        .extracting(RefUpdate::kind)
        .containsExactly(RefUpdate.Kind.CREATE, RefUpdate.Kind.DELETE, RefUpdate.Kind.UPDATE);
    assertThat(commands.capabilities()).contains("report-status", "side-band-64k");
    // What follows the flush is the pack: its offset in the body.
    assertThat(body.getByte(section.length())).isEqualTo((byte) 'P');
    assertThat(body.getByte(section.length() - 1)).isEqualTo((byte) '0');
  }

  @Test
  void commands_split_across_chunks_byte_by_byte_read_the_same() {
    byte[] body =
        push(
            ZERO + " " + A + " refs/heads/agent/x\0report-status\n",
            A + " " + B + " refs/heads/main\n");
    CommandSection section = new CommandSection();
    for (int i = 0; i < body.length && section.result() == null; i++) {
      section.feed(Unpooled.wrappedBuffer(body, i, 1));
    }
    assertThat(((CommandSection.Commands) section.result()).updates()).hasSize(2);
  }

  @Test
  void a_probe_with_no_commands_is_an_empty_push() {
    CommandSection section = new CommandSection();
    section.feed(Unpooled.copiedBuffer("0000", StandardCharsets.US_ASCII));
    assertThat(((CommandSection.Commands) section.result()).updates()).isEmpty();
  }

  @Test
  void an_endless_command_section_is_refused_at_the_bound_not_buffered() {
    CommandSection section = new CommandSection();
    String line = A + " " + B + " refs/heads/agent/" + "x".repeat(100) + "\n";
    int fed = 0;
    while (section.result() == null) {
      byte[] chunk = pkt(line);
      section.feed(Unpooled.wrappedBuffer(chunk));
      fed += chunk.length;
    }
    assertThat(section.result()).isInstanceOf(CommandSection.Malformed.class);
    assertThat(fed).isLessThanOrEqualTo(CommandSection.MAX_BYTES + 200);
  }

  @Test
  void a_truncated_section_a_bad_line_and_a_signed_push_are_malformed() {
    CommandSection truncated = new CommandSection();
    truncated.feed(Unpooled.wrappedBuffer(pkt(ZERO + " " + A + " refs/heads/x\n")));
    assertThat(truncated.result()).isNull();
    truncated.endOfBody();
    assertThat(truncated.result()).isInstanceOf(CommandSection.Malformed.class);

    CommandSection bad = new CommandSection();
    bad.feed(Unpooled.wrappedBuffer(push("not a command\n")));
    assertThat(bad.result()).isInstanceOf(CommandSection.Malformed.class);

    CommandSection notPkt = new CommandSection();
    notPkt.feed(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII));
    assertThat(notPkt.result()).isInstanceOf(CommandSection.Malformed.class);

    CommandSection signed = new CommandSection();
    signed.feed(Unpooled.wrappedBuffer(push("push-cert\0report-status\n")));
    assertThat(((CommandSection.Malformed) signed.result()).reason()).contains("push-cert");
  }

  @Test
  void shallow_lines_are_skipped_and_sha256_ids_are_read() {
    String z = "0".repeat(64);
    String c = "c".repeat(64);
    CommandSection section = new CommandSection();
    section.feed(
        Unpooled.wrappedBuffer(
            push(
                "shallow " + c + "\n",
                z + " " + c + " refs/heads/agent/y\0report-status object-format=sha256\n")));
    assertThat(((CommandSection.Commands) section.result()).updates())
        .containsExactly(new RefUpdate(z, c, "refs/heads/agent/y"));
  }
}
