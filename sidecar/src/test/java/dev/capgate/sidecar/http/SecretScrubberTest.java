package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class SecretScrubberTest {
  private static final String SECRET = "ghp_s3cr3tV4lue";

  @Test
  void a_secret_split_across_chunks_is_masked_and_the_length_kept() {
    SecretScrubber scrubber =
        new SecretScrubber(SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET));
    String body = "{\"authorization\":\"Bearer " + SECRET + "\",\"other\":\"" + SECRET + "\"}";
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < body.length(); i += 7) {
      boolean last = i + 7 >= body.length();
      ByteBuf chunk =
          Unpooled.copiedBuffer(
              body.substring(i, Math.min(body.length(), i + 7)), StandardCharsets.UTF_8);
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
    HttpHeaders headers =
        new DefaultHttpHeaders().add("x-echo", "eC1hY2Nlc3MtdG9rZW46Z2hwX3MzY3IzdFY0bHVl");
    scrubber.scrub(headers);
    assertThat(headers.get("x-echo")).doesNotContain("eC1hY2Nl").matches("\\*+");
  }

  @Test
  void a_chunk_with_nothing_to_mask_goes_on_whole_and_uncopied() {
    SecretScrubber scrubber =
        new SecretScrubber(SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET));
    ByteBuf event = Unpooled.copiedBuffer("data: {\"n\":1}\n\n", StandardCharsets.UTF_8);
    ByteBuf out = scrubber.scrub(event, false);
    // Server-sent events and long polls must not wait for the next chunk.
    assertThat(out).isSameAs(event);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("data: {\"n\":1}\n\n");
    out.release();
  }

  @Test
  void only_the_beginning_of_a_secret_at_the_end_of_a_chunk_waits() {
    SecretScrubber scrubber =
        new SecretScrubber(SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET));
    ByteBuf first =
        scrubber.scrub(Unpooled.copiedBuffer("token: ghp_s3c", StandardCharsets.UTF_8), false);
    assertThat(first.toString(StandardCharsets.UTF_8)).isEqualTo("token: ");
    ByteBuf second =
        scrubber.scrub(Unpooled.copiedBuffer("r3tV4lue!", StandardCharsets.UTF_8), false);
    assertThat(second.toString(StandardCharsets.UTF_8)).isEqualTo("***************!");
    ByteBuf third =
        scrubber.scrub(Unpooled.copiedBuffer("ghp_ is not it", StandardCharsets.UTF_8), false);
    assertThat(third.toString(StandardCharsets.UTF_8)).isEqualTo("ghp_ is not it");
    first.release();
    second.release();
    third.release();
  }

  @Test
  void bodies_without_the_secret_pass_unchanged() {
    SecretScrubber scrubber =
        new SecretScrubber(SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET));
    ByteBuf a = scrubber.scrub(Unpooled.copiedBuffer("hello ", StandardCharsets.UTF_8), false);
    ByteBuf b = scrubber.scrub(Unpooled.copiedBuffer("world", StandardCharsets.UTF_8), true);
    assertThat(a.toString(StandardCharsets.UTF_8) + b.toString(StandardCharsets.UTF_8))
        .isEqualTo("hello world");
  }

  // ------------------------------------------------------------------ issue 11: encoded forms

  /** A value with the characters encoders treat specially. */
  private static final String ODD = "gho_A1b2/C3d4+E5f6=G7h8<i9>&j0";

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String b64UrlUnpadded(String s) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** The forms an echoing upstream writes the value in, as the tests of the IT grep for them. */
  private static List<String> echoedForms(String user, String value) {
    List<String> forms =
        new ArrayList<>(
            List.of(
                value,
                URLEncoder.encode(value, StandardCharsets.UTF_8),
                value.replace("/", "\\/"),
                value.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"),
                value
                    .replace("+", "\\u002B")
                    .replace("<", "\\u003C")
                    .replace(">", "\\u003E")
                    .replace("&", "\\u0026"),
                b64(value),
                b64UrlUnpadded(value),
                b64(user + ":" + value),
                b64UrlUnpadded(user + ":" + value)));
    StringBuilder everything = new StringBuilder();
    for (char c : value.toCharArray()) {
      everything.append(
          Character.isLetterOrDigit(c) ? String.valueOf(c) : String.format("\\u%04x", (int) c));
    }
    forms.add(everything.toString());
    return forms;
  }

  private static String scrubInChunks(SecretScrubber scrubber, String body, int... cuts) {
    StringBuilder out = new StringBuilder();
    int from = 0;
    for (int i = 0; i <= cuts.length; i++) {
      int to = i < cuts.length ? cuts[i] : body.length();
      ByteBuf emitted =
          scrubber.scrub(
              Unpooled.copiedBuffer(body.substring(from, to), StandardCharsets.ISO_8859_1),
              i == cuts.length);
      out.append(emitted.toString(StandardCharsets.ISO_8859_1));
      emitted.release();
      from = to;
    }
    return out.toString();
  }

  @Test
  void url_encoded_json_escaped_and_base64_forms_are_masked_at_every_chunk_boundary() {
    String header = "Basic " + b64("x-access-token:" + ODD);
    for (String form : echoedForms("x-access-token", ODD)) {
      String body = "{\"echo\":\"" + form + "\"}";
      for (int cut = 0; cut <= body.length(); cut++) {
        SecretScrubber scrubber = new SecretScrubber(SecretScrubber.secretsOf(ODD, header));
        String out = scrubInChunks(scrubber, body, cut);
        assertThat(out).as("form %s cut at %d", form, cut).doesNotContain(form).hasSameSizeAs(body);
      }
    }
  }

  @Test
  void base64_of_a_longer_text_hides_no_part_of_the_value_whatever_its_alignment() {
    SecretScrubber scrubber = new SecretScrubber(SecretScrubber.secretsOf(ODD, "Bearer " + ODD));
    for (String prefix :
        new String[] {
          "Authorization: Bearer ", "Authorization: Bearer x", "Authorization: Bearer xy"
        }) {
      String whole = b64(prefix + ODD + "\r\nAccept: */*\r\n");
      String out = scrubInChunks(scrubber, "{\"raw\":\"" + whole + "\"}", 11, 40);
      byte[] decoded =
          Base64.getDecoder().decode(out.substring(8, out.length() - 2).replace('*', 'A'));
      // At most the bits of one or two characters at either end of the value survive.
      assertThat(new String(decoded, StandardCharsets.ISO_8859_1))
          .doesNotContain(ODD.substring(2, ODD.length() - 2));
    }
  }

  @Test
  void the_reason_phrase_and_header_names_are_masked_too() {
    SecretScrubber scrubber =
        new SecretScrubber(SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET));
    assertThat(scrubber.scrub("Unauthorized token " + SECRET))
        .isEqualTo("Unauthorized token " + "*".repeat(SECRET.length()));
    String ok = "OK";
    assertThat(scrubber.scrub(ok)).isSameAs(ok);
    HttpHeaders headers = new DefaultHttpHeaders().add("x-" + SECRET, "1").add("x-plain", "ok");
    scrubber.scrub(headers);
    assertThat(headers.names())
        .doesNotContain("x-" + SECRET)
        .contains("x-" + "*".repeat(SECRET.length()), "x-plain");
  }

  @Test
  void a_held_tail_goes_out_in_front_of_the_next_chunk_without_masking_what_is_not_a_secret() {
    SecretScrubber scrubber =
        new SecretScrubber(SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET));
    assertThat(scrubInChunks(scrubber, "a ghp_s3 b ghp_s3cr3tV4lue c gh", 8, 9, 25, 29))
        .isEqualTo("a ghp_s3 b *************** c gh");
  }

  @Test
  void known_secrets_mask_every_value_held_not_only_the_one_injected() {
    KnownSecrets known = new KnownSecrets();
    assertThat(known.newScrubber()).isNull();
    java.time.Instant later = java.time.Instant.now().plusSeconds(60);
    known.remember("github", SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET), later);
    known.remember("tenant", SecretScrubber.secretsOf("tk_0123456789", "key=tk_0123456789"), later);
    ScrubPatterns compiled = known.patterns();
    known.remember("github", SecretScrubber.secretsOf(SECRET, "Bearer " + SECRET), later);
    assertThat(known.patterns()).as("the same value again compiles nothing").isSameAs(compiled);

    SecretScrubber scrubber = known.newScrubber();
    assertThat(scrubInChunks(scrubber, SECRET + " tk_0123456789 " + ODD, 5))
        .doesNotContain(SECRET, "tk_0123456789")
        .contains(ODD);

    // Rotated: the old value stays masked until it expires, the new one from now on.
    known.remember("github", SecretScrubber.secretsOf(ODD, "Bearer " + ODD), later);
    assertThat(scrubInChunks(known.newScrubber(), SECRET + " " + ODD))
        .doesNotContain(SECRET)
        .doesNotContain(ODD);
    known.remember(
        "tenant",
        SecretScrubber.secretsOf("tk_9876543210", "key=tk_9876543210"),
        java.time.Instant.now().minusSeconds(1));
    known.remember("tenant", SecretScrubber.secretsOf("tk_5555555555", "key=tk_5555555555"), later);
    assertThat(scrubInChunks(known.newScrubber(), "tk_9876543210"))
        .as("expired when replaced")
        .isEqualTo("tk_9876543210");

    known.forget();
    assertThat(known.newScrubber()).isNull();
  }
}
