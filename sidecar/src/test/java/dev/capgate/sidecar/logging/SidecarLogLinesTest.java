package dev.capgate.sidecar.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.testkit.JsonSchemas;
import dev.capgate.testkit.TestClassPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar as a process (its real {@code Main}) writes nothing to stderr but lines of
 * docs/log.schema.json, the operator's schema, at the level {@code --log-level} or {@code
 * CAPGATE_LOG_LEVEL} gives. Runs that stop at their settings, so no port is bound here; DataPlaneIT
 * checks the log lines of a sidecar serving real traffic against the same schema.
 */
class SidecarLogLinesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void a_refused_setting_is_one_error_line_of_the_schema() throws Exception {
    List<String> lines = run(List.of("proxy", "--log-level", "verbose"), null);
    assertThat(lines).hasSize(1);
    assertConform(lines);
    assertThat(JSON.readTree(lines.getFirst()).get("level").asText()).isEqualTo("ERROR");
    assertThat(JSON.readTree(lines.getFirst()).get("message").asText())
        .contains("log level must be one of ERROR, WARN, INFO, DEBUG, TRACE");
  }

  @Test
  void the_level_comes_from_the_environment_as_the_webhook_sets_it() throws Exception {
    // ERROR: the usage line (SEVERE) is still written, nothing else would be.
    List<String> lines = run(List.of("neither-init-nor-proxy"), "ERROR");
    assertConform(lines);
    assertThat(lines).hasSize(1);
    List<String> refused = run(List.of("proxy"), "verbose");
    assertConform(refused);
    assertThat(String.join("\n", refused)).contains("log level must be one of");
  }

  private static void assertConform(List<String> lines) throws Exception {
    for (String line : lines) {
      assertThat(JsonSchemas.violations(JsonSchemas.LOG, line)).as(line).isEmpty();
      assertThat(JSON.readTree(line).get("component").asText()).isEqualTo("sidecar");
    }
  }

  private List<String> run(List<String> args, String levelEnv) throws Exception {
    Path stderr = Files.createTempFile(dir, "stderr", ".log");
    List<String> command = TestClassPath.javaCommand("dev.capgate.sidecar.Main");
    command.addAll(args);
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    builder.environment().keySet().removeIf(k -> k.startsWith("CAPGATE_"));
    if (levelEnv != null) {
      builder.environment().put("CAPGATE_LOG_LEVEL", levelEnv);
    }
    Process sidecar = builder.start();
    assertThat(sidecar.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(sidecar.exitValue()).isEqualTo(64);
    return Files.readAllLines(stderr).stream().filter(l -> !l.isBlank()).toList();
  }
}
