package dev.capgate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class JsonLogFormatterTest {
  @Test
  void oneJsonObjectPerLineWithTheMdcFields() throws Exception {
    LogRecord record = new LogRecord(Level.WARNING, "session \"{0}\" is\ninvalid");
    record.setParameters(new Object[] {"fix-42"});
    record.setLoggerName("dev.capgate.test");
    record.setThrown(new IllegalStateException("boom"));
    String line;
    try (var ignored = MDC.putCloseable("session", "fix-42")) {
      line = new JsonLogFormatter().format(record);
    }
    assertThat(line).endsWith("}\n").doesNotContain("\n{").hasLineCount(1);
    JsonNode json = new ObjectMapper().readTree(line);
    assertThat(json.get("level").asText()).isEqualTo("WARN");
    assertThat(json.get("logger").asText()).isEqualTo("dev.capgate.test");
    assertThat(json.get("message").asText()).isEqualTo("session \"fix-42\" is\ninvalid");
    assertThat(json.get("session").asText()).isEqualTo("fix-42");
    assertThat(json.get("error").asText()).contains("IllegalStateException: boom");
  }
}
