package dev.capgate.common.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * The shared picocli side, on a command of its own (the operator's and the sidecar's command-line
 * tests run it with their real flags): kinds checked while parsing, the last value counting, and
 * the usage error's wording.
 */
class FlagCommandLineTest {
  private static final List<Flag> FLAGS =
      List.of(
          Flag.text("watch-namespaces", "namespaces"),
          Flag.number("webhook-port", "port"),
          Flag.bool("leader-election", "elect"),
          Flag.path("system-roots", "roots"),
          Flag.duration("idle-timeout", "idle"));

  /** A grammar of whole seconds only ("30s"): the callers pass the API's. */
  private static Duration seconds(String text) {
    if (!text.matches("\\d+s")) {
      throw new IllegalArgumentException("no");
    }
    return Duration.ofSeconds(Long.parseLong(text.substring(0, text.length() - 1)));
  }

  private static CommandLine line() {
    return FlagCommandLine.configured(
        new CommandLine(FlagCommandLine.command("tool", "A tool.", FLAGS)),
        FlagCommandLineTest::seconds);
  }

  private static ParameterException refused(String... args) {
    try {
      line().parseArgs(args);
    } catch (ParameterException e) {
      return e;
    }
    throw new AssertionError("accepted: " + List.of(args));
  }

  @Test
  void flags_are_names_to_text_and_the_last_one_counts() {
    var result =
        line()
            .parseArgs(
                "--webhook-port", "1", "--idle-timeout", " 30s", "--webhook-port=2", "--help");
    assertThat(FlagCommandLine.flags(result))
        .isEqualTo(Map.of("webhook-port", "2", "idle-timeout", " 30s"));
    assertThat(result.isUsageHelpRequested()).isTrue();
  }

  @Test
  void help_names_each_flags_variable_and_kind() {
    String help = FlagCommandLine.usage(line());
    assertThat(help)
        .contains("A tool.", "-h, --help")
        .contains("--watch-namespaces=<text>", "[CAPGATE_WATCH_NAMESPACES]")
        .contains("--webhook-port=<n>", "--leader-election=true|false", "--system-roots=<path>")
        .contains("--idle-timeout=<duration>", "[CAPGATE_IDLE_TIMEOUT]");
  }

  @Test
  void a_usage_error_suggests_the_flag_and_says_where_the_flags_are() {
    assertThat(FlagCommandLine.usageError(refused("--webhook-prot=1")))
        .isEqualTo(
            "Unknown option: '--webhook-prot=1'; did you mean --webhook-port? (tool --help lists"
                + " the flags; each also from its CAPGATE_* variable)");
    assertThat(FlagCommandLine.usageError(refused("--idle-timeout", "10 minutes")))
        .contains(
            "--idle-timeout", "must be a duration such as 30s, 10m or 1h30m, got '10 minutes'")
        .doesNotContain("did you mean");
    assertThat(refused("--webhook-port", "https").getMessage()).contains("'https' is not an int");
    assertThat(refused("--leader-election", "yes")).isNotNull();
    assertThat(refused("stray")).isNotNull();
  }

  /** help of the root or of a mode stops with that command's help; a usage error with 64. */
  @Test
  void parse_stops_for_help_and_usage_errors_and_otherwise_hands_over_the_innermost_command() {
    CommandLine root =
        FlagCommandLine.configured(
            new CommandLine(FlagCommandLine.command("tool", "A tool.", List.of()))
                .addSubcommand(new CommandLine(FlagCommandLine.command("serve", "Serves.", FLAGS))),
            FlagCommandLineTest::seconds);
    assertThat(FlagCommandLine.parse(root, new String[] {"serve", "--help"}))
        .isInstanceOfSatisfying(
            FlagCommandLine.Stop.class,
            stop -> {
              assertThat(stop.code()).isZero();
              assertThat(stop.text()).contains("Serves.", "--idle-timeout");
            });
    assertThat(FlagCommandLine.parse(root, new String[] {"-h"}))
        .isInstanceOfSatisfying(
            FlagCommandLine.Stop.class, stop -> assertThat(stop.text()).contains("A tool."));
    assertThat(FlagCommandLine.parse(root, new String[] {"serve", "--idle-timout=1s"}))
        .isInstanceOfSatisfying(
            FlagCommandLine.Stop.class,
            stop -> {
              assertThat(stop.code()).isEqualTo(64);
              assertThat(stop.text())
                  .contains("did you mean --idle-timeout?", "(tool serve --help");
            });
    assertThat(FlagCommandLine.parse(root, new String[] {"serve", "--idle-timeout=1s"}))
        .isInstanceOfSatisfying(
            FlagCommandLine.Parsed.class,
            parsed -> {
              assertThat(parsed.result().commandSpec().name()).isEqualTo("serve");
              assertThat(FlagCommandLine.flags(parsed.result()))
                  .isEqualTo(Map.of("idle-timeout", "1s"));
            });
    assertThat(FlagCommandLine.parse(root, new String[] {}))
        .isInstanceOfSatisfying(
            FlagCommandLine.Parsed.class,
            parsed -> assertThat(parsed.result().commandSpec().name()).isEqualTo("tool"));
  }

  @Test
  void a_flags_variable() {
    assertThat(Flag.envOf("identity-token-expiration-seconds"))
        .isEqualTo("CAPGATE_IDENTITY_TOKEN_EXPIRATION_SECONDS");
    assertThat(Flag.duration("idle-timeout", "").env()).isEqualTo("CAPGATE_IDLE_TIMEOUT");
    assertThatThrownBy(() -> FlagCommandLine.duration("5 m", FlagCommandLineTest::seconds))
        .isInstanceOf(CommandLine.TypeConversionException.class);
  }
}
