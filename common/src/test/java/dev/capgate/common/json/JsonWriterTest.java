package dev.capgate.common.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JsonWriterTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String object(String value) {
    StringBuilder out = new StringBuilder();
    new JsonWriter(out).field("v", value).end();
    return out.toString();
  }

  static Stream<Arguments> strings() {
    return Stream.of(
        Arguments.of("plain text", "hello", "{\"v\":\"hello\"}"),
        Arguments.of("a quote", "say \"hi\"", "{\"v\":\"say \\\"hi\\\"\"}"),
        Arguments.of("a backslash", "a\\b", "{\"v\":\"a\\\\b\"}"),
        Arguments.of("a newline", "a\nb", "{\"v\":\"a\\nb\"}"),
        Arguments.of("CR LF", "a\r\nb", "{\"v\":\"a\\r\\nb\"}"),
        Arguments.of("a tab", "a\tb", "{\"v\":\"a\\tb\"}"),
        Arguments.of("NUL", "a\u0000b", "{\"v\":\"a\\u0000b\"}"),
        Arguments.of("escape (0x1B)", "\u001b[31m", "{\"v\":\"\\u001b[31m\"}"),
        Arguments.of("DEL", "\u007f", "{\"v\":\"\\u007f\"}"),
        Arguments.of("line separator U+2028", "a\u2028b", "{\"v\":\"a\\u2028b\"}"),
        Arguments.of("accented letters stay as they are", "café", "{\"v\":\"café\"}"),
        Arguments.of(
            "an emoji (surrogate pair) stays as it is",
            "ok \uD83D\uDC4D",
            "{\"v\":\"ok \uD83D\uDC4D\"}"),
        Arguments.of("a lone high surrogate", "a\uD83Db", "{\"v\":\"a\\ud83db\"}"),
        Arguments.of("a lone low surrogate", "a\uDC4Db", "{\"v\":\"a\\udc4db\"}"),
        Arguments.of("a high surrogate at the end", "a\uD83D", "{\"v\":\"a\\ud83d\"}"),
        Arguments.of("a fake closing brace", "\"}{\"x\":\"", "{\"v\":\"\\\"}{\\\"x\\\":\\\"\"}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strings")
  void escapes(String description, String value, String json) throws Exception {
    String written = object(value);

    assertThat(written).isEqualTo(json);
    assertThat(JSON.readTree(written).get("v").asText()).isEqualTo(value);
  }

  @Test
  void any_string_round_trips_through_a_real_json_parser_on_one_line() throws Exception {
    Random random = new Random(42);
    for (int n = 0; n < 5_000; n++) {
      char[] chars = new char[random.nextInt(40)];
      for (int i = 0; i < chars.length; i++) {
        // Bias towards the interesting ranges: controls, ASCII, surrogates.
        chars[i] =
            switch (random.nextInt(4)) {
              case 0 -> (char) random.nextInt(0x80);
              case 1 -> (char) (0xD800 + random.nextInt(0x800));
              case 2 -> (char) random.nextInt(0x20);
              default -> (char) random.nextInt(0x10000);
            };
      }
      String value = new String(chars);
      String written = object(value);

      assertThat(written).doesNotContain("\n", "\r", "\u2028", "\u2029");
      JsonNode node = JSON.readTree(written);
      assertThat(node.get("v").asText()).isEqualTo(value);
    }
  }

  @Test
  void an_object_member_nests_and_the_outer_object_goes_on() {
    StringBuilder out = new StringBuilder();
    JsonWriter outer = new JsonWriter(out).field("a", "1");
    outer.object("pod").field("name", "p").field("port", 443L).end();
    outer.field("b", "2").end();
    assertThat(out.toString())
        .isEqualTo("{\"a\":\"1\",\"pod\":{\"name\":\"p\",\"port\":443},\"b\":\"2\"}");
  }

  @Test
  void null_members_are_left_out_or_written_as_null() {
    StringBuilder out = new StringBuilder();
    new JsonWriter(out)
        .field("a", (String) null)
        .fieldOrNull("b", null)
        .field("c", 7L)
        .field("d", (Long) null)
        .end();

    assertThat(out).hasToString("{\"b\":null,\"c\":7}");
  }
}
