package dev.capgate.operator.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.testkit.JsonSchemas;
import dev.capgate.testkit.TestClassPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator as a process (its real {@code Main}, a JVM of its own) writes nothing to stderr but
 * lines of docs/log.schema.json, at the level {@code CAPGATE_LOG_LEVEL} gives (chart {@code
 * logLevel}). Its API server is a loopback port nobody serves: the operator starts, logs, retries;
 * that is all this needs.
 */
class OperatorLogLinesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void every_stderr_line_is_a_log_line_of_the_schema_at_the_level_asked() throws Exception {
    List<String> debug = run("DEBUG");
    assertConform(debug);
    Set<String> levels = levels(debug);
    assertThat(levels).contains("DEBUG", "WARN");

    List<String> warn = run("WARN");
    assertConform(warn);
    assertThat(levels(warn)).doesNotContain("DEBUG", "INFO", "TRACE").contains("WARN");
  }

  /** The command line (picocli): help on stdout, a bad flag one error line of the schema, 64. */
  @Test
  void help_exits_0_and_an_unknown_flag_exits_64_with_one_log_line() throws Exception {
    Path out = dir.resolve("help-out");
    Path err = dir.resolve("help-err");
    Process help = main(out, err, "--help");
    assertThat(help.waitFor()).isZero();
    assertThat(Files.readString(out)).contains("--watch-namespaces", "CAPGATE_WATCH_NAMESPACES");
    assertThat(Files.readString(err)).isBlank();

    Process bad = main(out, err, "--watch-namespace", "a");
    assertThat(bad.waitFor()).isEqualTo(64);
    List<String> lines = Files.readAllLines(err).stream().filter(l -> !l.isBlank()).toList();
    assertThat(lines).hasSize(1);
    assertConform(lines);
    assertThat(JSON.readTree(lines.getFirst()).get("message").asText())
        .contains("Unknown option", "--watch-namespace", "did you mean");
  }

  private static Process main(Path out, Path err, String... args) throws Exception {
    List<String> command = TestClassPath.javaCommand("dev.capgate.operator.Main");
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("CAPGATE_"));
    return builder.start();
  }

  private static void assertConform(List<String> lines) throws Exception {
    assertThat(lines).isNotEmpty();
    for (String line : lines) {
      assertThat(JsonSchemas.violations(JsonSchemas.LOG, line)).as(line).isEmpty();
      assertThat(JSON.readTree(line).get("component").asText()).isEqualTo("operator");
    }
  }

  private static Set<String> levels(List<String> lines) throws Exception {
    Set<String> levels = new TreeSet<>();
    for (String line : lines) {
      levels.add(JSON.readTree(line).get("level").asText());
    }
    return levels;
  }

  /**
   * Runs the operator until it has logged its start (the WARN about no Vault address comes after
   * the configuration is read) and a few lines more, then stops it; its stderr, line by line.
   */
  private List<String> run(String level) throws Exception {
    Path kubeconfig = dir.resolve("kubeconfig-" + level);
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
        users: [{name: u, user: {token: nothing}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x
        """);
    Path stderr = dir.resolve("stderr-" + level);
    ProcessBuilder builder =
        new ProcessBuilder(TestClassPath.javaCommand("dev.capgate.operator.Main"))
            .redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    builder.environment().put("CAPGATE_LOG_LEVEL", level);
    builder.environment().remove("CAPGATE_VAULT_ADDR");
    Process operator = builder.start();
    try {
      Awaitility.await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> Files.readString(stderr).contains("no Vault address configured"));
      // a moment for what follows the start (informers failing to reach the API server)
      Thread.sleep(2_000);
    } finally {
      operator.destroy();
      operator.waitFor();
    }
    return Files.readAllLines(stderr).stream().filter(l -> !l.isBlank()).toList();
  }
}
