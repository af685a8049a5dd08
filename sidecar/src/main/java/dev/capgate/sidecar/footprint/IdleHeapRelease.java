package dev.capgate.sidecar.footprint;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Gives the heap back once the sidecar goes quiet after the heap grew: one full collection when no
 * exchange has been in flight and none has begun for {@code quiet}, and the heap's committed size
 * is {@code growth} above what it was after the last collection (or at start), at most once per
 * {@code minInterval}. Serial GC (the image's) grows the heap under load (1,000 connections: 14 →
 * 30 MiB) and shrinks it only in a full collection (down to {@code -XX:MaxHeapFreeRatio} free), so
 * without this a pod keeps its busiest minute's heap resident for good (issue 13, sidecar/README.md
 * "Footprint"). Without growth it does nothing: a full collection of a heap that did not grow makes
 * Serial size it up to {@code -XX:MinHeapFreeRatio} free (measured: 14 → 19-29 MiB committed).
 *
 * <p>The collection runs off the caller's thread, on {@code offLoop} ({@link #OFF_EVENT_LOOP} in
 * production): the timer that ticks is on a Vert.x event loop, which must not block for a
 * collection's 10-60 ms. Never with an exchange in flight: {@link #tick} looks at the activity
 * before it hands the collection off, and the collection looks again right before it runs and is
 * skipped if an exchange began in the hop; one that begins in the microseconds after that second
 * look waits out the pause as it would any collection's. A skipped collection still counts for
 * {@code minInterval} (the interval is a ceiling on collections, and the next quiet period after
 * that exchange brings it back). Cost: one full collection of a ~12 MiB live heap (10-60 ms of CPU)
 * per busy period that grew the heap, at most one per {@code minInterval}.
 *
 * <p>{@link #tick} is called about once a second from one timer; it is not meant for concurrent
 * callers. While a handed-off collection has not finished, ticks hand off no other.
 */
public final class IdleHeapRelease {
  private static final Logger LOG = Logger.getLogger(IdleHeapRelease.class.getName());

  /**
   * Runs a collection on a virtual thread of its own: never on a Vert.x event loop, and no thread
   * kept for a task that runs at most once per {@code minInterval}.
   */
  public static final Executor OFF_EVENT_LOOP =
      task -> Thread.ofVirtual().name("capgate-heap-release").start(task);

  private final ExchangeActivity activity;
  private final long quietNanos;
  private final long minIntervalNanos;
  private final Runnable collect;
  private final Executor offLoop;
  private final LongSupplier heapCommitted;
  private final long growth;
  // Written by the collection (off the ticking thread), read by the ticks.
  private volatile long baseline;
  private volatile boolean collecting;
  private final AtomicInteger releases = new AtomicInteger();

  private long seenStarted;
  private long lastBusy;
  private long lastRelease;
  private boolean released;
  private boolean pending;

  /**
   * @param quiet how long without an exchange in flight or begun before the heap is given back
   * @param minInterval the least time between two collections
   * @param collect the collection ({@link #fullGc} in production; tests count calls)
   * @param offLoop where the collection runs ({@link #OFF_EVENT_LOOP} in production)
   * @param heapCommitted the heap's committed bytes ({@link Runtime#totalMemory} in production)
   * @param growth how far the heap must have grown, in bytes, since start or the last collection
   * @param now the current {@link System#nanoTime}
   */
  public IdleHeapRelease(
      ExchangeActivity activity,
      Duration quiet,
      Duration minInterval,
      Runnable collect,
      Executor offLoop,
      LongSupplier heapCommitted,
      long growth,
      long now) {
    if (quiet.isNegative() || quiet.isZero()) {
      throw new IllegalArgumentException("quiet period must be positive: " + quiet);
    }
    this.activity = activity;
    this.quietNanos = quiet.toNanos();
    this.minIntervalNanos = minInterval.toNanos();
    this.collect = collect;
    this.offLoop = offLoop;
    this.heapCommitted = heapCommitted;
    this.growth = growth;
    this.baseline = heapCommitted.getAsLong();
    this.lastBusy = now;
    this.seenStarted = activity.startedTotal();
  }

  /**
   * Looks at the activity and collects if the sidecar has been quiet long enough after a busy
   * period that grew the heap. Returns whether it handed a collection off.
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
        || collecting
        || now - lastBusy < quietNanos
        || (released && now - lastRelease < minIntervalNanos)) {
      return false;
    }
    pending = false;
    if (heapCommitted.getAsLong() < baseline + growth) {
      return false; // the busy period did not grow the heap: nothing to give back
    }
    released = true;
    lastRelease = now;
    collecting = true;
    offLoop.execute(() -> collectIfStillIdle(started));
    return true;
  }

  /** The handed-off collection: skipped if an exchange began since the tick that decided it. */
  private void collectIfStillIdle(long startedAtDecision) {
    try {
      if (activity.inFlight() > 0 || activity.startedTotal() != startedAtDecision) {
        return;
      }
      collect.run();
      releases.incrementAndGet();
      baseline = heapCommitted.getAsLong();
    } finally {
      collecting = false;
    }
  }

  /** Collections run so far (tests, the log). */
  public int releases() {
    return releases.get();
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
