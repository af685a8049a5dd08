package dev.capgate.sidecar.footprint;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Gives the heap back once the sidecar goes quiet after being busy: one full collection when no
 * exchange has been in flight and none has begun for {@code quiet}, at most once per {@code
 * minInterval}. Serial GC (the image's) grows the heap under load and shrinks it only in a full
 * collection (down to {@code -XX:MaxHeapFreeRatio} free), so without this a pod keeps its busiest
 * minute's heap resident for good (issue 13, sidecar/README.md "Footprint").
 *
 * <p>Never with an exchange in flight: {@link #tick} looks at the in-flight count right before it
 * collects and does nothing while it is above zero; an exchange that begins in the microseconds
 * between that look and the collection waits out the pause as it would any collection's. The start
 * counts as a busy period (the heap grows while classes load and the policy compiles), so an idle
 * sidecar collects once, {@code quiet} after its start. Cost: one full collection of a ~10 MiB live
 * heap (10-30 ms of CPU) per busy period, at most one per {@code minInterval}.
 *
 * <p>{@link #tick} is called about once a second from one timer; it is not meant for concurrent
 * callers.
 */
public final class IdleHeapRelease {
  private static final Logger LOG = Logger.getLogger(IdleHeapRelease.class.getName());

  private final ExchangeActivity activity;
  private final long quietNanos;
  private final long minIntervalNanos;
  private final Runnable collect;

  private long seenStarted;
  private long lastBusy;
  private long lastRelease;
  private boolean released;
  private boolean pending = true;
  private int releases;

  /**
   * @param quiet how long without an exchange in flight or begun before the heap is given back
   * @param minInterval the least time between two collections
   * @param collect the collection ({@link #fullGc} in production; tests count calls)
   * @param now the current {@link System#nanoTime}: the start, a busy period's beginning
   */
  public IdleHeapRelease(
      ExchangeActivity activity, Duration quiet, Duration minInterval, Runnable collect, long now) {
    if (quiet.isNegative() || quiet.isZero()) {
      throw new IllegalArgumentException("quiet period must be positive: " + quiet);
    }
    this.activity = activity;
    this.quietNanos = quiet.toNanos();
    this.minIntervalNanos = minInterval.toNanos();
    this.collect = collect;
    this.lastBusy = now;
    this.seenStarted = activity.startedTotal();
  }

  /**
   * Looks at the activity and collects if the sidecar has been quiet long enough after a busy
   * period. Returns whether it collected.
   */
  public boolean tick(long now) {
    long started = activity.startedTotal();
    if (activity.inFlight() > 0 || started != seenStarted) {
      seenStarted = started;
      lastBusy = now;
      pending = true;
      return false;
    }
    if (!pending
        || now - lastBusy < quietNanos
        || (released && now - lastRelease < minIntervalNanos)) {
      return false;
    }
    pending = false;
    released = true;
    lastRelease = now;
    releases++;
    collect.run();
    return true;
  }

  /** Collections so far (tests, the log). */
  public int releases() {
    return releases;
  }

  /**
   * A full collection, logged at FINE with the heap committed before and after (Serial resizes the
   * heap only here).
   */
  public static void fullGc() {
    if (!LOG.isLoggable(Level.FINE)) {
      System.gc();
      return;
    }
    // java.lang.management only when asked for: its classes are not worth loading for a log line.
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long before = memory.getHeapMemoryUsage().getCommitted();
    long t0 = System.nanoTime();
    System.gc();
    var after = memory.getHeapMemoryUsage();
    LOG.fine(
        String.format(
            "idle: heap given back, committed %.1f -> %.1f MiB (%.1f MiB live) in %d ms",
            before / 1048576.0,
            after.getCommitted() / 1048576.0,
            after.getUsed() / 1048576.0,
            (System.nanoTime() - t0) / 1_000_000));
  }
}
