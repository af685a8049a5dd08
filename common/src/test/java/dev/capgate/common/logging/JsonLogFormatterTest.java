package dev.capgate.common.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class JsonLogFormatterTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void oneJsonObjectPerLineWithTheSchemaFieldsAndTheContext() throws Exception {
    LogRecord record = new LogRecord(Level.WARNING, "session \"{0}\" is\ninvalid");
    record.setParameters(new Object[] {"fix-42"});
    record.setLoggerName("dev.capgate.test");
    Map<String, String> context = new LinkedHashMap<>();
    context.put("session", "fix-42");
    context.put("message", "a context field may not replace the message");

    String line = new JsonLogFormatter("operator", () -> context).format(record);

    assertThat(line).endsWith("}\n").hasLineCount(1);
    JsonNode json = JSON.readTree(line);
    assertThat(fieldNames(json))
        .containsExactly("time", "level", "logger", "message", "component", "session");
    assertThat(json.get("level").asText()).isEqualTo("WARN");
    assertThat(json.get("logger").asText()).isEqualTo("dev.capgate.test");
    assertThat(json.get("message").asText()).isEqualTo("session \"fix-42\" is\ninvalid");
    assertThat(json.get("component").asText()).isEqualTo("operator");
    assertThat(json.get("session").asText()).isEqualTo("fix-42");
    assertThat(java.time.Instant.parse(json.get("time").asText())).isNotNull();
  }

  /**
   * A message an agent can influence (a host name, a header) cannot split the line or hide in it:
   * line separators, control characters and lone surrogates are written as escapes (the shared
   * {@code JsonWriter}); a record without a logger name writes it as null.
   */
  @Test
  void anyMessageStaysOneValidLine() throws Exception {
    LogRecord record = new LogRecord(Level.INFO, "upstream said\n\"no\"\u2028\u2029\u0000\ud800!");

    String line = new JsonLogFormatter("sidecar").format(record);

    assertThat(line).endsWith("}\n").hasLineCount(1).doesNotContain("\u2028", "\u2029");
    JsonNode json = JSON.readTree(line);
    assertThat(json.get("message").asText()).startsWith("upstream said\n\"no\"\u2028\u2029\u0000");
    assertThat(json.get("logger").isNull()).isTrue();
  }

  /**
   * The attack: a library exception whose message (and its cause's) echoes what it was sent. The
   * line names the classes and the throwing frame, never the messages nor the trace.
   */
  @Test
  void anExceptionIsLoggedByClassAndFrameNeverByMessage() throws Exception {
    String secret = "s.VaultTokenValue-do-not-log";
    LogRecord record = new LogRecord(Level.SEVERE, "cannot renew the Vault token");
    record.setLoggerName("dev.capgate.test");
    record.setThrown(
        new IllegalStateException(
            "renew failed: " + secret, new java.io.IOException("body: {\"token\":\"" + secret)));

    String line = new JsonLogFormatter("sidecar").format(record);

    assertThat(line).doesNotContain(secret).doesNotContain("body:").hasLineCount(1);
    JsonNode json = JSON.readTree(line);
    assertThat(json.get("level").asText()).isEqualTo("ERROR");
    assertThat(json.get("component").asText()).isEqualTo("sidecar");
    assertThat(json.get("error").asText()).isEqualTo("java.lang.IllegalStateException");
    assertThat(json.get("cause").asText()).isEqualTo("java.io.IOException");
    assertThat(json.get("at").asText()).contains("JsonLogFormatterTest");
  }

  @Test
  void levelsByTheirUsualNamesOrJulNames() {
    assertThat(LogLevels.parse("debug")).isEqualTo(Level.FINE);
    assertThat(LogLevels.parse(" WARN ")).isEqualTo(Level.WARNING);
    assertThat(LogLevels.parse("SEVERE")).isEqualTo(Level.SEVERE);
    assertThat(LogLevels.parse("trace")).isEqualTo(Level.FINEST);
    for (String name : List.of("ERROR", "WARN", "INFO", "DEBUG", "TRACE")) {
      assertThat(LogLevels.name(LogLevels.parse(name))).isEqualTo(name);
    }
    assertThatThrownBy(() -> LogLevels.parse("verbose"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ERROR, WARN, INFO, DEBUG, TRACE")
        .hasMessageContaining("'verbose'");
  }

  private static List<String> fieldNames(JsonNode json) {
    List<String> names = new java.util.ArrayList<>();
    json.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
