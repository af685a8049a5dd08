package dev.capgate.operator.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.common.cli.Flag;
import dev.capgate.operator.config.OperatorCommandLine.Exit;
import dev.capgate.operator.config.OperatorCommandLine.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class OperatorCommandLineTest {
  private static final Map<String, String> ENV =
      Map.of("CAPGATE_NAMESPACE", "from-env", "CAPGATE_WEBHOOK_PORT", "9000");

  private static OperatorCommandLine.Outcome parse(String... args) {
    return OperatorCommandLine.parse(args, ENV);
  }

  @Test
  void no_arguments_is_the_environment_as_it_is() {
    assertThat(((Run) parse()).env()).isEqualTo(ENV);
    assertThat(parse("aot-train")).isInstanceOf(OperatorCommandLine.Train.class);
  }

  @Test
  void a_flag_wins_over_its_variable_and_the_rest_stays() {
    Run run =
        (Run)
            parse(
                "--namespace",
                "from-flag",
                "--watch-namespaces=team-a,team-b",
                "--orphaned-ca-grace",
                "5m",
                "--namespace",
                "last-wins");
    assertThat(run.env())
        .containsEntry("CAPGATE_NAMESPACE", "last-wins")
        .containsEntry("CAPGATE_WEBHOOK_PORT", "9000")
        .containsEntry("CAPGATE_WATCH_NAMESPACES", "team-a,team-b");
    OperatorConfig config = OperatorConfig.fromEnv(run.env());
    assertThat(config.namespace()).isEqualTo("last-wins");
    assertThat(config.watchNamespaces()).containsExactly("team-a", "team-b");
    assertThat(config.orphanedCaGrace()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.webhookPort()).isEqualTo(9000);
  }

  @Test
  void help_lists_every_flag_with_its_variable() {
    Exit help = (Exit) parse("--help");
    assertThat(help.code()).isZero();
    for (Flag flag : OperatorFlags.ALL) {
      assertThat(help.text()).contains("--" + flag.name()).contains(flag.env());
    }
  }

  @Test
  void an_unknown_flag_a_stray_argument_and_a_bad_value_are_usage_errors() {
    Exit unknown = (Exit) parse("--watch-namespace=a");
    assertThat(unknown.code()).isEqualTo(64);
    assertThat(unknown.text())
        .contains("Unknown option: '--watch-namespace=a'", "--watch-namespaces")
        .contains("capgate-operator --help");
    Exit stray = (Exit) parse("--namespace", "a", "extra");
    assertThat(stray.code()).isEqualTo(64);
    assertThat(stray.text()).contains("'extra'");
    Exit duration = (Exit) parse("--ca-max-validity", "30d");
    assertThat(duration.code()).isEqualTo(64);
    assertThat(duration.text())
        .contains("--ca-max-validity", "must be a duration such as 30s, 10m or 1h30m, got '30d'");
    assertThat(((Exit) parse("--webhook-port", "https")).text()).contains("'https' is not an int");
    assertThat(((Exit) parse("--leader-election", "yes")).code()).isEqualTo(64);
  }

  /** Variables get the same duration grammar, with the variable named. */
  @Test
  void a_bad_duration_variable_is_named() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> OperatorConfig.fromEnv(Map.of("CAPGATE_ORPHANED_CA_GRACE", "120")))
        .hasMessageContaining(
            "CAPGATE_ORPHANED_CA_GRACE must be a duration such as 30s, 10m or 1h30m, got '120'");
  }

  /** Every variable OperatorConfig reads is a flag (so none is left out of --help). */
  @Test
  void every_variable_the_config_reads_is_a_flag() throws IOException {
    Matcher m =
        Pattern.compile("\"(CAPGATE_[A-Z0-9_]+)\"")
            .matcher(
                Files.readString(
                    Path.of("src/main/java/dev/capgate/operator/config/OperatorConfig.java")));
    Set<String> read = new TreeSet<>();
    while (m.find()) {
      read.add(m.group(1));
    }
    read.add("CAPGATE_LOG_LEVEL"); // Main reads it (JsonLogs.LEVEL_ENV)
    read.add("CAPGATE_SHUTDOWN_DRAIN"); // Main reads it (GracefulStop)
    Set<String> declared = OperatorFlags.ALL.stream().map(Flag::env).collect(Collectors.toSet());
    assertThat(read).hasSizeGreaterThan(30);
    assertThat(declared).containsAll(read);
    assertThat(OperatorFlags.ALL.stream().map(Flag::name)).doesNotHaveDuplicates();
  }
}
