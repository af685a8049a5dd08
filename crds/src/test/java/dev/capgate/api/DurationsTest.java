package dev.capgate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.v1alpha1.Durations;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void parsesHoursMinutesAndSecondsTogether() {
    assertThat(Durations.parse("1h30m5s")).isEqualTo(Duration.ofSeconds(5405));
    assertThat(Durations.parse("90m")).isEqualTo(Duration.ofMinutes(90));
  }

  @Test
  void refusesWhatTheApiServerWouldRefuse() {
    for (String bad : new String[] {"", "2", "2d", "h", "1.5h", "-1h", " 2h", "2h "}) {
      assertThatThrownBy(() -> Durations.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + bad + "'");
    }
  }
}
