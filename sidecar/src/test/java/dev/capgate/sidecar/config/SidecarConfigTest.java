package dev.capgate.sidecar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SidecarConfigTest {
  @Test
  void a_flag_wins_over_the_environment() {
    SidecarConfig config =
        SidecarConfig.parse(
            List.of("--proxy-port", "16001", "--dns-port=16053"),
            Map.of("CAPGATE_PROXY_PORT", "17001", "CAPGATE_ADMIN_PORT", "17021"));
    assertThat(config.getInt("proxy-port", 1)).isEqualTo(16001);
    assertThat(config.getInt("dns-port", 1)).isEqualTo(16053);
    assertThat(config.getInt("admin-port", 1)).isEqualTo(17021);
    assertThat(config.getInt("proxy-uid", 1447)).isEqualTo(1447);
  }

  @Test
  void durations_are_the_apis_from_a_flag_or_the_environment() {
    SidecarConfig config =
        SidecarConfig.parse(
            List.of("--idle-timeout", "10m"), Map.of("CAPGATE_PEEK_TIMEOUT", "1m30s"));
    assertThat(config.getDuration("idle-timeout", Duration.ZERO)).isEqualTo(Duration.ofMinutes(10));
    assertThat(config.getDuration("peek-timeout", Duration.ZERO)).isEqualTo(Duration.ofSeconds(90));
    // A bare number (once milliseconds) and ISO-8601 are not the API's grammar: refused on the
    // command line, and from the environment when read.
    assertThatThrownBy(() -> SidecarConfig.parse(List.of("--peek-timeout", "250"), Map.of()))
        .hasMessageContaining("--peek-timeout")
        .hasMessageContaining("must be a duration such as 30s, 10m or 1h30m, got '250'");
    SidecarConfig fromEnv = SidecarConfig.parse(List.of(), Map.of("CAPGATE_PEEK_TIMEOUT", "PT1S"));
    assertThatThrownBy(() -> fromEnv.getDuration("peek-timeout", Duration.ZERO))
        .hasMessageContaining(
            "--peek-timeout (CAPGATE_PEEK_TIMEOUT) must be a duration such as 30s, 10m or 1h30m");
  }

  @Test
  void a_setting_not_declared_as_a_flag_cannot_be_read() {
    SidecarConfig config = SidecarConfig.parse(List.of(), Map.of("CAPGATE_NO_SUCH", "x"));
    assertThatThrownBy(() -> config.get("no-such"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("--no-such is read but not declared in SidecarFlags");
  }

  @Test
  void booleans_are_true_or_false_and_nothing_else() {
    assertThat(
            SidecarConfig.parse(List.of("--admin-expose-metrics", "TRUE"), Map.of())
                .getBoolean("admin-expose-metrics", false))
        .isTrue();
    assertThat(
            SidecarConfig.parse(List.of(), Map.of("CAPGATE_ADMIN_EXPOSE_METRICS", "false"))
                .getBoolean("admin-expose-metrics", true))
        .isFalse();
    assertThat(SidecarConfig.parse(List.of(), Map.of()).getBoolean("admin-expose-metrics", false))
        .isFalse();
    assertThatThrownBy(
            () -> SidecarConfig.parse(List.of("--admin-expose-metrics", "yes"), Map.of()))
        .hasMessageContaining("'--admin-expose-metrics'")
        .hasMessageContaining("'yes' is not a boolean");
    assertThatThrownBy(
            () ->
                SidecarConfig.parse(List.of(), Map.of("CAPGATE_ADMIN_EXPOSE_METRICS", "yes"))
                    .getBoolean("admin-expose-metrics", false))
        .hasMessageContaining("--admin-expose-metrics must be true or false");
  }

  @Test
  void bad_input_is_named() {
    assertThatThrownBy(() -> SidecarConfig.parse(List.of("proxy"), Map.of()))
        .hasMessageContaining("'proxy'");
    assertThatThrownBy(() -> SidecarConfig.parse(List.of("--proxy-port"), Map.of()))
        .hasMessageContaining("Missing required parameter for option '--proxy-port'");
    assertThatThrownBy(() -> SidecarConfig.parse(List.of("--proxy-port", "x"), Map.of()))
        .hasMessageContaining("'--proxy-port'")
        .hasMessageContaining("'x' is not an int");
    // From the environment, a number is checked when read.
    SidecarConfig config = SidecarConfig.parse(List.of(), Map.of("CAPGATE_PROXY_PORT", "x"));
    assertThatThrownBy(() -> config.getInt("proxy-port", 1))
        .hasMessageContaining("--proxy-port must be a number");
  }
}
