package dev.capgate.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GracefulStopTest {
  @Test
  void drainDefaultsToFifteenSeconds() {
    assertThat(GracefulStop.drainFrom(Map.of())).isEqualTo(Duration.ofSeconds(15));
  }

  @Test
  void drainIsADuration() {
    assertThat(GracefulStop.drainFrom(Map.of("CAPGATE_SHUTDOWN_DRAIN", "1m30s")))
        .isEqualTo(Duration.ofSeconds(90));
    assertThat(GracefulStop.drainFrom(Map.of("CAPGATE_SHUTDOWN_DRAIN", "0s"))).isZero();
  }

  @Test
  void aBareNumberIsRefusedWithTheVariableNamed() {
    assertThatThrownBy(() -> GracefulStop.drainFrom(Map.of("CAPGATE_SHUTDOWN_DRAIN", "15")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("CAPGATE_SHUTDOWN_DRAIN must be a duration such as 0s, 15s or 1m, got '15'");
  }
}
