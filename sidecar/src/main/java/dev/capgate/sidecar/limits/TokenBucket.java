package dev.capgate.sidecar.limits;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A token bucket as GCRA (the generic cell rate algorithm): one {@code long}, the theoretical
 * arrival time of the next request, moved by compare-and-set. Lock-free and allocation-free, so it
 * runs on the event loop. Equivalent to a bucket of {@code burst} tokens refilled at {@code rate}
 * per second: a full bucket lets {@code burst} requests through at once, then one every {@code
 * 1/rate} seconds.
 */
final class TokenBucket {
  private static final long SECOND = 1_000_000_000L;

  private final int rate;
  private final int burst;

  /** Nanoseconds between two tokens. */
  private final long interval;

  /** How far ahead of now the arrival time may run: (burst - 1) intervals. */
  private final long tolerance;

  private final LongSupplier nanos;
  private final AtomicLong arrival;

  /**
   * @param nanos a monotonic clock in nanoseconds ({@link System#nanoTime} in production)
   */
  TokenBucket(int rate, int burst, LongSupplier nanos) {
    if (rate < 1 || burst < rate) {
      throw new IllegalArgumentException("rate " + rate + ", burst " + burst);
    }
    this.rate = rate;
    this.burst = burst;
    this.interval = SECOND / rate;
    this.tolerance = interval * (burst - 1);
    this.nanos = nanos;
    this.arrival = new AtomicLong(nanos.getAsLong()); // full at start
  }

  int rate() {
    return rate;
  }

  int burst() {
    return burst;
  }

  /**
   * Takes a token if there is one.
   *
   * @return 0 when taken; otherwise the nanoseconds until one is there (at least 1)
   */
  long tryTake() {
    long now = nanos.getAsLong();
    while (true) {
      long tat = arrival.get();
      long base = tat - now > 0 ? tat : now; // overflow-safe max for nanoTime values
      long ahead = base - now;
      if (ahead > tolerance) {
        return ahead - tolerance;
      }
      if (arrival.compareAndSet(tat, base + interval)) {
        return 0;
      }
    }
  }

  /** Gives back a token taken by a request that a later limit refused. */
  void giveBack() {
    arrival.addAndGet(-interval);
  }

  /** Whole seconds to wait for {@code nanosToWait}, rounded up (Retry-After is whole seconds). */
  static long retryAfterSeconds(long nanosToWait) {
    return Math.max(1, (nanosToWait + SECOND - 1) / SECOND);
  }
}
