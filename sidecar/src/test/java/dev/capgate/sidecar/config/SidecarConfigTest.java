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
  void durations_read_as_milliseconds_or_with_a_unit() {
    SidecarConfig config =
        SidecarConfig.parse(List.of("--peek-timeout", "250", "--idle-timeout", "10m"), Map.of());
    assertThat(config.getDuration("peek-timeout", Duration.ZERO)).isEqualTo(Duration.ofMillis(250));
    assertThat(config.getDuration("idle-timeout", Duration.ZERO)).isEqualTo(Duration.ofMinutes(10));
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
            () ->
                SidecarConfig.parse(List.of("--admin-expose-metrics", "yes"), Map.of())
                    .getBoolean("admin-expose-metrics", false))
        .hasMessageContaining("--admin-expose-metrics must be true or false");
  }

  @Test
  void bad_input_is_named() {
    assertThatThrownBy(() -> SidecarConfig.parse(List.of("proxy"), Map.of()))
        .hasMessageContaining("'proxy'");
    assertThatThrownBy(() -> SidecarConfig.parse(List.of("--proxy-port"), Map.of()))
        .hasMessageContaining("needs a value");
    SidecarConfig config = SidecarConfig.parse(List.of("--proxy-port", "x"), Map.of());
    assertThatThrownBy(() -> config.getInt("proxy-port", 1))
        .hasMessageContaining("--proxy-port must be a number");
  }
}
