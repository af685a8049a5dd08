package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SecretScrubberTest {
  private static final String SECRET = "ghp_s3cr3tV4lue";

  @Test
  void a_secret_split_across_chunks_is_masked_and_the_length_kept() {
    SecretScrubber scrubber = new SecretScrubber(SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET));
    String body = "{\"authorization\":\"Bearer " + SECRET + "\",\"other\":\"" + SECRET + "\"}";
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < body.length(); i += 7) {
      boolean last = i + 7 >= body.length();
      ByteBuf chunk = Unpooled.copiedBuffer(body.substring(i, Math.min(body.length(), i + 7)), StandardCharsets.UTF_8);
      ByteBuf emitted = scrubber.scrub(chunk, last);
      out.append(emitted.toString(StandardCharsets.UTF_8));
      emitted.release();
    }
    assertThat(out.toString()).doesNotContain(SECRET).hasSameSizeAs(body).contains("*****");
  }

  @Test
  void basic_credentials_are_masked_in_their_encoded_form_too() {
    String header = "Basic eC1hY2Nlc3MtdG9rZW46Z2hwX3MzY3IzdFY0bHVl";
    SecretScrubber scrubber = new SecretScrubber(SecretScrubber.secretsOf(SECRET, header));
    HttpHeaders headers = new DefaultHttpHeaders().add("x-echo", "eC1hY2Nlc3MtdG9rZW46Z2hwX3MzY3IzdFY0bHVl");
    scrubber.scrub(headers);
    assertThat(headers.get("x-echo")).doesNotContain("eC1hY2Nl").matches("\\*+");
  }

  @Test
  void a_chunk_with_nothing_to_mask_goes_on_whole_and_uncopied() {
    SecretScrubber scrubber = new SecretScrubber(SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET));
    ByteBuf event = Unpooled.copiedBuffer("data: {\"n\":1}\n\n", StandardCharsets.UTF_8);
    ByteBuf out = scrubber.scrub(event, false);
    // Server-sent events and long polls must not wait for the next chunk.
    assertThat(out).isSameAs(event);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("data: {\"n\":1}\n\n");
    out.release();
  }

  @Test
  void only_the_beginning_of_a_secret_at_the_end_of_a_chunk_waits() {
    SecretScrubber scrubber = new SecretScrubber(SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET));
    ByteBuf first = scrubber.scrub(Unpooled.copiedBuffer("token: ghp_s3c", StandardCharsets.UTF_8), false);
    assertThat(first.toString(StandardCharsets.UTF_8)).isEqualTo("token: ");
    ByteBuf second = scrubber.scrub(Unpooled.copiedBuffer("r3tV4lue!", StandardCharsets.UTF_8), false);
    assertThat(second.toString(StandardCharsets.UTF_8)).isEqualTo("***************!");
    ByteBuf third = scrubber.scrub(Unpooled.copiedBuffer("ghp_ is not it", StandardCharsets.UTF_8), false);
    assertThat(third.toString(StandardCharsets.UTF_8)).isEqualTo("ghp_ is not it");
    first.release();
    second.release();
    third.release();
  }

  @Test
  void bodies_without_the_secret_pass_unchanged() {
    SecretScrubber scrubber = new SecretScrubber(SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET));
    ByteBuf a = scrubber.scrub(Unpooled.copiedBuffer("hello ", StandardCharsets.UTF_8), false);
    ByteBuf b = scrubber.scrub(Unpooled.copiedBuffer("world", StandardCharsets.UTF_8), true);
    assertThat(a.toString(StandardCharsets.UTF_8) + b.toString(StandardCharsets.UTF_8)).isEqualTo("hello world");
  }
}
