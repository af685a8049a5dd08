package dev.capgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.common.cli.Flag;
import dev.capgate.sidecar.config.SidecarCommandLine.Exit;
import dev.capgate.sidecar.config.SidecarCommandLine.Run;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SidecarCommandLineTest {
  private static SidecarCommandLine.Outcome parse(String... args) {
    return SidecarCommandLine.parse(args, Map.of("CAPGATE_PROXY_PORT", "17001"));
  }

  @Test
  void help_lists_every_flag_of_the_mode_with_its_variable() {
    Exit help = (Exit) parse("proxy", "--help");
    assertThat(help.code()).isZero();
    for (Flag flag : SidecarFlags.PROXY) {
      assertThat(help.text()).contains("--" + flag.name()).contains(flag.env());
    }
    Exit initHelp = (Exit) parse("init", "-h");
    assertThat(initHelp.code()).isZero();
    assertThat(initHelp.text()).contains("--inbound-ports", "CAPGATE_EXEMPT_UIDS");
    assertThat(initHelp.text()).doesNotContain("--session-file");
    Exit top = (Exit) parse("--help");
    assertThat(top.code()).isZero();
    assertThat(top.text()).contains("init", "proxy", "aot-train", "CAPGATE_PROXY_PORT");
  }

  @Test
  void an_unknown_flag_is_a_usage_error_naming_it() {
    Exit unknown = (Exit) parse("proxy", "--proxy-prot=1");
    assertThat(unknown.code()).isEqualTo(64);
    assertThat(unknown.text())
        .contains("Unknown option: '--proxy-prot=1'; did you mean")
        .contains("--proxy-port?")
        .contains("capgate-sidecar proxy --help lists the flags");
    // A flag of the other mode is unknown too: init has no session.
    Exit wrongMode = (Exit) parse("init", "--session-file", "s.json");
    assertThat(wrongMode.code()).isEqualTo(64);
    assertThat(wrongMode.text()).contains("'--session-file'");
  }

  @Test
  void no_mode_an_unknown_mode_and_a_stray_argument_are_usage_errors() {
    assertThat(((Exit) parse()).code()).isEqualTo(64);
    Exit mode = (Exit) parse("neither");
    assertThat(mode.code()).isEqualTo(64);
    assertThat(mode.text()).contains("'neither'");
    Exit stray = (Exit) parse("proxy", "--proxy-port", "1", "extra");
    assertThat(stray.code()).isEqualTo(64);
    assertThat(stray.text()).contains("'extra'");
  }

  @Test
  void values_are_checked_by_kind_while_parsing() {
    Exit duration = (Exit) parse("proxy", "--idle-timeout", "10 minutes");
    assertThat(duration.code()).isEqualTo(64);
    assertThat(duration.text())
        .contains("--idle-timeout")
        .contains("must be a duration such as 30s, 10m or 1h30m, got '10 minutes'");
    assertThat(((Exit) parse("init", "--proxy-uid", "root")).text())
        .contains("'root' is not an int");
    assertThat(((Exit) parse("proxy", "--admin-expose-metrics", "1")).code()).isEqualTo(64);
  }

  @Test
  void a_run_reads_flags_first_then_the_environment() {
    Run run =
        (Run) parse("proxy", "--dns-port=16053", "--idle-timeout", "1h30m", "--dns-port", "16054");
    assertThat(run.mode()).isEqualTo("proxy");
    // Given twice, the last counts.
    assertThat(run.config().getInt("dns-port", 1)).isEqualTo(16054);
    assertThat(run.config().getInt("proxy-port", 1)).isEqualTo(17001);
    assertThat(run.config().getDuration("idle-timeout", Duration.ZERO))
        .isEqualTo(Duration.ofMinutes(90));
    Run flagWins = (Run) parse("proxy", "--proxy-port", "16001");
    assertThat(flagWins.config().getInt("proxy-port", 1)).isEqualTo(16001);
    assertThat(((Run) parse("aot-train")).mode()).isEqualTo("aot-train");
  }
}
