package dev.capgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/**
 * Log lines are written by the same JSON writer as audit lines: one valid line, whatever the text.
 */
class JsonLoggingTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void a_log_line_is_one_json_object_with_the_schema_fields() throws Exception {
    LogRecord record = new LogRecord(Level.WARNING, "upstream {0} said\n\"no\"\u2028");
    record.setParameters(new Object[] {"api.github.test"});
    record.setLoggerName("dev.capgate.sidecar.http.Exchange");
    record.setInstant(java.time.Instant.parse("2026-01-01T00:00:00Z"));
    record.setThrown(new IllegalStateException("broken\npipe"));

    String text = new JsonLogging.JsonFormatter().format(record);

    assertThat(text).endsWith("\n");
    assertThat(text.strip().lines()).hasSize(1);
    assertThat(text).doesNotContain("\u2028");
    JsonNode line = JSON.readTree(text);
    assertThat(line.get("ts").asText()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(line.get("level").asText()).isEqualTo("WARNING");
    assertThat(line.get("logger").asText()).isEqualTo("dev.capgate.sidecar.http.Exchange");
    assertThat(line.get("msg").asText()).isEqualTo("upstream api.github.test said\n\"no\"\u2028");
    assertThat(line.get("error").asText()).isEqualTo("java.lang.IllegalStateException");
    assertThat(line.get("errorMessage").asText()).isEqualTo("broken\npipe");
    assertThat(line.get("at").asText()).contains("JsonLoggingTest");
  }

  @Test
  void a_record_without_a_logger_name_writes_it_as_null() throws Exception {
    LogRecord record = new LogRecord(Level.INFO, "started");

    JsonNode line = JSON.readTree(new JsonLogging.JsonFormatter().format(record));

    assertThat(line.get("logger").isNull()).isTrue();
    assertThat(line.has("error")).isFalse();
  }
}
