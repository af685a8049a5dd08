package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.credentials.Placeholders;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StreamMatcherTest {
  private static final String GH = "capgate-ph-github-abcdefghijklmnopqrstuvwxyz234567";
  private static final String KEY = "capgate-ph-apikey-2222abcdefghijklmnopqrstuvwxyz77";
  private static final Placeholders PLACEHOLDERS =
      Placeholders.of(Map.of("github", GH, "apikey", KEY));

  private static ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  @Test
  void a_placeholder_split_over_chunks_is_found_in_the_chunk_that_completes_it() {
    StreamMatcher scanner = new StreamMatcher(PLACEHOLDERS.patterns(), true);
    String body = "{\"token\":\"" + GH + "\"}";
    int found = -1;
    int foundInChunk = -1;
    for (int i = 0, chunk = 0; i < body.length(); i += 5, chunk++) {
      ByteBuf b = bytes(body.substring(i, Math.min(body.length(), i + 5)));
      found = scanner.scan(b);
      b.release();
      if (found >= 0) {
        foundInChunk = chunk;
        break;
      }
    }
    assertThat(PLACEHOLDERS.patternCredential(found)).isEqualTo("github");
    assertThat(foundInChunk).isEqualTo((body.indexOf(GH) + GH.length() - 1) / 5);
  }

  @Test
  void letter_case_does_not_hide_a_placeholder() {
    StreamMatcher scanner = new StreamMatcher(PLACEHOLDERS.patterns(), true);
    assertThat(PLACEHOLDERS.patternCredential(scanner.scan(bytes("key=" + KEY.toUpperCase()))))
        .isEqualTo("apikey");
  }

  @Test
  void near_misses_and_restarts_are_handled() {
    StreamMatcher scanner = new StreamMatcher(PLACEHOLDERS.patterns(), true);
    // A false start ("capgate-ph-gith" then something else) right before the real one.
    assertThat(
            scanner.scan(bytes("capgate-ph-githcapgate-ph-github-abcdefghijklmnopqrstuvwxyz23456")))
        .isEqualTo(-1);
    assertThat(scanner.scan(bytes("7 trailing"))).isGreaterThanOrEqualTo(0);
  }

  @Test
  void exact_matching_reports_the_beginning_of_a_pattern_left_at_the_end() {
    StreamMatcher matcher =
        new StreamMatcher(List.of("ghp_secret".getBytes(StandardCharsets.US_ASCII)), false);
    assertThat(matcher.scan(bytes("token GHP_SECRET ghp_se"))).isEqualTo(-1);
    assertThat(matcher.partial()).isEqualTo(6);
    matcher.reset();
    assertThat(matcher.partial()).isZero();
    assertThat(matcher.scan(bytes("ghp_ghp_secret"))).isZero();
  }

  @Test
  void ordinary_bodies_pass() {
    StreamMatcher scanner = new StreamMatcher(PLACEHOLDERS.patterns(), true);
    ByteBuf big = Unpooled.buffer(1 << 20);
    for (int i = 0; i < (1 << 20) / 16; i++) {
      big.writeBytes("capgate-ph-xyz-\n".getBytes(StandardCharsets.US_ASCII));
    }
    assertThat(scanner.scan(big)).isEqualTo(-1);
    assertThat(big.readerIndex()).isZero();
  }
}
