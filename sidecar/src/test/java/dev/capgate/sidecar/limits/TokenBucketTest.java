package dev.capgate.sidecar.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The limiter's math, on a clock the test moves by hand. */
class TokenBucketTest {
  private static final long MS = 1_000_000L;
  private final AtomicLong now = new AtomicLong(-5_000 * MS); // nanoTime may be negative

  @Test
  void aFullBucketLetsTheBurstThroughThenOnePerInterval() {
    TokenBucket bucket = new TokenBucket(2, 5, now::get);
    for (int i = 0; i < 5; i++) {
      assertThat(bucket.tryTake()).as("request %d of the burst", i).isZero();
    }
    long wait = bucket.tryTake();
    assertThat(wait).as("the 6th waits for the next token: 1/2 s").isEqualTo(500 * MS);
    now.addAndGet(499 * MS);
    assertThat(bucket.tryTake()).isEqualTo(1 * MS);
    now.addAndGet(1 * MS);
    assertThat(bucket.tryTake()).as("one token after 500 ms").isZero();
    assertThat(bucket.tryTake()).isEqualTo(500 * MS);
  }

  @Test
  void anIdleBucketRefillsToTheBurstAndNoFurther() {
    TokenBucket bucket = new TokenBucket(10, 20, now::get);
    for (int i = 0; i < 20; i++) {
      bucket.tryTake();
    }
    now.addAndGet(3_600_000 * MS); // an hour idle
    int taken = 0;
    while (bucket.tryTake() == 0) {
      taken++;
    }
    assertThat(taken).isEqualTo(20);
  }

  @Test
  void aRefusalTakesNothing() {
    TokenBucket bucket = new TokenBucket(1, 1, now::get);
    assertThat(bucket.tryTake()).isZero();
    for (int i = 0; i < 100; i++) {
      assertThat(bucket.tryTake()).isEqualTo(1_000 * MS);
    }
    now.addAndGet(1_000 * MS);
    assertThat(bucket.tryTake()).as("100 refusals did not push the next token back").isZero();
  }

  @Test
  void aGivenBackTokenCanBeTakenAgain() {
    TokenBucket bucket = new TokenBucket(1, 2, now::get);
    bucket.tryTake();
    bucket.tryTake();
    assertThat(bucket.tryTake()).isPositive();
    bucket.giveBack();
    assertThat(bucket.tryTake()).isZero();
  }

  @Test
  void retryAfterIsWholeSecondsRoundedUpAndAtLeastOne() {
    assertThat(TokenBucket.retryAfterSeconds(1)).isEqualTo(1);
    assertThat(TokenBucket.retryAfterSeconds(1_000 * MS)).isEqualTo(1);
    assertThat(TokenBucket.retryAfterSeconds(1_001 * MS)).isEqualTo(2);
    assertThat(TokenBucket.retryAfterSeconds(0)).isEqualTo(1);
  }

  @Test
  void theRateBoundsTheThroughputOverTime() {
    TokenBucket bucket = new TokenBucket(100, 100, now::get);
    int allowed = 0;
    for (int ms = 0; ms < 10_000; ms++) { // 10 s, one attempt per millisecond
      if (bucket.tryTake() == 0) {
        allowed++;
      }
      now.addAndGet(MS);
    }
    assertThat(allowed).as("burst + 10 s at 100/s").isBetween(1_099, 1_100);
  }

  @Test
  void aBurstBelowTheRateIsRefused() {
    assertThatThrownBy(() -> new TokenBucket(10, 5, now::get))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
