package dev.capgate.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.SessionActivity;
import dev.capgate.api.v1alpha1.SessionActivity.Denial;
import org.junit.jupiter.api.Test;

class SessionActivityTest {
  private static final Denial EARLY =
      new Denial("2026-01-01T10:00:00Z", "evil.example", "POST", "/x", null, "no-rule", "r-1");
  private static final Denial LATE =
      new Denial(
          "2026-01-01T11:00:00Z", "api.github.com", "DELETE", "/repos", "gh", "method", "r-2");

  @Test
  void sumsCountsAndKeepsTheLatestTimes() {
    SessionActivity a = new SessionActivity(10L, 2L, "2026-01-01T10:30:00Z", LATE);
    SessionActivity b = new SessionActivity(5L, 1L, "2026-01-01T12:00:00Z", EARLY);
    SessionActivity sum = SessionActivity.NONE.plus(a).plus(b);
    assertThat(sum.requests()).isEqualTo(15);
    assertThat(sum.denials()).isEqualTo(3);
    assertThat(sum.lastActivity()).isEqualTo("2026-01-01T12:00:00Z");
    assertThat(sum.lastDenial()).isEqualTo(LATE);
    assertThat(b.plus(a)).as("order does not matter").isEqualTo(sum);
  }

  /** The ledger is written by the session's pods: what the operator shows is bounded anyway. */
  @Test
  void boundsWhatAPodWrote() {
    String longPath = "/" + "a".repeat(10_000);
    SessionActivity forged =
        new SessionActivity(
                -5L,
                Long.MAX_VALUE,
                "yesterday",
                new Denial("not a time", "h\nost", "GET", longPath, null, null, null))
            .bounded();
    assertThat(forged.requests()).isZero();
    assertThat(forged.lastActivity()).isNull();
    assertThat(forged.lastDenial().time()).isNull();
    assertThat(forged.lastDenial().host()).isEqualTo("h?ost");
    assertThat(forged.lastDenial().path()).hasSize(256);
    assertThat(forged.plus(new SessionActivity(1L, 1L, null, null)).denials())
        .as("saturates instead of overflowing")
        .isEqualTo(Long.MAX_VALUE);
  }
}
