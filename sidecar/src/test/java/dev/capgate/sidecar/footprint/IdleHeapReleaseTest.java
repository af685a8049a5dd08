package dev.capgate.sidecar.footprint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The trigger of the idle heap release on a clock the test moves, ticked every second as the
 * sidecar's timer does: one collection after a quiet period following start or a busy period, never
 * with an exchange in flight however long it lasts, at most one per minimum interval.
 */
class IdleHeapReleaseTest {
  private static final Duration QUIET = Duration.ofSeconds(10);
  private static final Duration MIN_INTERVAL = Duration.ofSeconds(60);
  private static final long SECOND = 1_000_000_000L;

  private final ExchangeActivity activity = new ExchangeActivity();
  private final AtomicInteger collections = new AtomicInteger();
  private final long t0 = 1_000 * SECOND;
  private long now = t0;
  private final IdleHeapRelease release =
      new IdleHeapRelease(activity, QUIET, MIN_INTERVAL, collections::incrementAndGet, t0);

  /** Ticks once a second for {@code seconds}; returns the collections in that time. */
  private int tickFor(long seconds) {
    int before = collections.get();
    for (long i = 0; i < seconds; i++) {
      now += SECOND;
      release.tick(now);
    }
    return collections.get() - before;
  }

  @Test
  void anIdleSidecarCollectsOnceAQuietPeriodAfterItsStart() {
    assertThat(tickFor(QUIET.toSeconds() - 1)).isZero();
    assertThat(tickFor(1)).isEqualTo(1);
    assertThat(tickFor(3_600)).as("nothing happened since: nothing to give back").isZero();
  }

  @Test
  void aBusyPeriodIsFollowedByOneCollectionAQuietPeriodAfterItsLastExchange() {
    tickFor(MIN_INTERVAL.toSeconds()); // the start's collection, then a minute
    assertThat(release.releases()).isEqualTo(1);
    for (int i = 0; i < 30; i++) { // 30 s of requests, one after the other
      activity.started();
      activity.ended();
      assertThat(tickFor(1)).isZero();
    }
    assertThat(tickFor(QUIET.toSeconds() - 1)).isZero();
    assertThat(tickFor(1)).isEqualTo(1);
    assertThat(tickFor(600)).isZero();
  }

  @Test
  void neverWhileAnExchangeIsInFlightHoweverLongItTakes() {
    activity.started(); // a held approval, a long download, a WebSocket before its 101
    assertThat(tickFor(3_600)).isZero();
    activity.ended();
    assertThat(tickFor(QUIET.toSeconds() - 1)).isZero();
    assertThat(tickFor(1)).isEqualTo(1);
  }

  @Test
  void anExchangeThatBeginsAndEndsBetweenTwoTicksStillCountsAsBusy() {
    assertThat(tickFor(QUIET.toSeconds() - 1)).isZero();
    activity.started();
    activity.ended(); // never seen in flight by a tick: the next tick sees that one began
    assertThat(tickFor(QUIET.toSeconds())).isZero();
    assertThat(tickFor(1)).isEqualTo(1);
  }

  @Test
  void atMostOneCollectionPerMinimumInterval() {
    assertThat(tickFor(QUIET.toSeconds())).isEqualTo(1);
    activity.started();
    activity.ended();
    assertThat(tickFor(QUIET.toSeconds())).as("quiet again, but 10 s after the last one").isZero();
    // Still quiet: it collects once the interval since the last collection has passed.
    assertThat(tickFor(MIN_INTERVAL.toSeconds() - QUIET.toSeconds() - 1)).isZero();
    assertThat(tickFor(1)).isEqualTo(1);
  }

  @Test
  void aQuietPeriodMustBePositive() {
    assertThatThrownBy(
            () -> new IdleHeapRelease(activity, Duration.ZERO, MIN_INTERVAL, () -> {}, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
