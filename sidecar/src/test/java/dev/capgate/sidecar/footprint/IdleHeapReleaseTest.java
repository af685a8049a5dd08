package dev.capgate.sidecar.footprint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The trigger of the idle heap release on a clock and a heap size the test moves, ticked every
 * second as the sidecar's timer does: one collection a quiet period after a busy period that grew
 * the heap, never with an exchange in flight however long it lasts, none when the heap did not
 * grow, at most one per minimum interval. The collection is handed off the ticking thread (here to
 * a queue the test runs, in production to a virtual thread, never a Vert.x event loop).
 */
class IdleHeapReleaseTest {
  private static final Duration QUIET = Duration.ofSeconds(10);
  private static final Duration MIN_INTERVAL = Duration.ofSeconds(60);
  private static final long SECOND = 1_000_000_000L;
  private static final long MIB = 1L << 20;
  private static final long GROWTH = 8 * MIB;

  private final ExchangeActivity activity = new ExchangeActivity();
  private final AtomicLong heap = new AtomicLong(14 * MIB);
  private final AtomicInteger collections = new AtomicInteger();
  private final Queue<Runnable> handedOff = new ArrayDeque<>();
  private boolean holdHandedOff; // tests of the hand-off run the queue themselves
  private final long t0 = 1_000 * SECOND;
  private long now = t0;
  private final IdleHeapRelease release =
      new IdleHeapRelease(
          activity,
          QUIET,
          MIN_INTERVAL,
          () -> {
            collections.incrementAndGet();
            heap.set(19 * MIB); // what Serial leaves: live + MaxHeapFreeRatio, young resized
          },
          handedOff::add,
          heap::get,
          GROWTH,
          t0);

  /** Ticks once a second for {@code seconds}; returns the collections in that time. */
  private int tickFor(long seconds) {
    int before = collections.get();
    for (long i = 0; i < seconds; i++) {
      now += SECOND;
      release.tick(now);
      if (!holdHandedOff) {
        runHandedOff();
      }
    }
    return collections.get() - before;
  }

  private void runHandedOff() {
    for (Runnable task; (task = handedOff.poll()) != null; ) {
      task.run();
    }
  }

  /** Requests one after the other, a second each, growing the heap to {@code heapMiB}. */
  private void busyFor(int seconds, long heapMiB) {
    for (int i = 0; i < seconds; i++) {
      activity.started();
      activity.ended();
      assertThat(tickFor(1)).isZero();
    }
    heap.set(heapMiB * MIB);
  }

  @Test
  void aBusyPeriodThatGrewTheHeapIsFollowedByOneCollectionAQuietPeriodAfterItsLastExchange() {
    busyFor(30, 30); // 1,000 connections: 14 -> 30 MiB
    assertThat(tickFor(QUIET.toSeconds() - 1)).isZero();
    assertThat(tickFor(1)).isEqualTo(1);
    assertThat(tickFor(600)).as("nothing happened since: nothing to give back").isZero();
  }

  @Test
  void noCollectionWhenTheHeapDidNotGrow() {
    assertThat(tickFor(600)).as("idle since start").isZero();
    busyFor(30, 14 + 7); // grew, but less than the threshold
    assertThat(tickFor(600)).isZero();
  }

  @Test
  void neverWhileAnExchangeIsInFlightHoweverLongItTakes() {
    heap.set(40 * MIB);
    activity.started(); // a held approval, a long download, a WebSocket before its 101
    assertThat(tickFor(3_600)).isZero();
    activity.ended();
    assertThat(tickFor(QUIET.toSeconds() - 1)).isZero();
    assertThat(tickFor(1)).isEqualTo(1);
  }

  @Test
  void anExchangeThatBeginsAndEndsBetweenTwoTicksStillCountsAsBusy() {
    heap.set(40 * MIB);
    activity.started();
    activity.ended(); // never seen in flight by a tick: the next tick sees that one began
    assertThat(tickFor(QUIET.toSeconds())).isZero();
    assertThat(tickFor(1)).isEqualTo(1);
  }

  @Test
  void theNextCollectionNeedsGrowthOverWhatTheLastOneLeftAndTheMinimumInterval() {
    busyFor(1, 30);
    assertThat(tickFor(QUIET.toSeconds())).isEqualTo(1); // 30 -> 19 MiB
    busyFor(1, 26); // 19 + 7: not enough
    assertThat(tickFor(120)).isZero();
    busyFor(1, 40);
    assertThat(tickFor(QUIET.toSeconds())).isEqualTo(1);
    busyFor(1, 40);
    assertThat(tickFor(QUIET.toSeconds())).as("quiet again, but within the interval").isZero();
    // Still quiet: it collects once the interval since the last collection has passed.
    assertThat(tickFor(MIN_INTERVAL.toSeconds() - QUIET.toSeconds() - 2)).isZero();
    assertThat(tickFor(1)).isEqualTo(1);
  }

  @Test
  void aQuietPeriodMustBePositive() {
    assertThatThrownBy(
            () ->
                new IdleHeapRelease(
                    activity,
                    Duration.ZERO,
                    MIN_INTERVAL,
                    () -> {},
                    Runnable::run,
                    heap::get,
                    GROWTH,
                    0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theCollectionRunsAfterTheTickHasReturnedAndItsResultIsTheNextBaseline() {
    holdHandedOff = true;
    busyFor(1, 30);
    assertThat(tickFor(QUIET.toSeconds())).as("handed off, not run by the tick").isZero();
    assertThat(handedOff).hasSize(1);
    runHandedOff();
    assertThat(collections).hasValue(1);
    assertThat(release.releases()).isEqualTo(1);
    holdHandedOff = false;
    busyFor(1, 26); // 19 (what the collection left) + 7: not enough
    assertThat(tickFor(120)).isZero();
  }

  @Test
  void noSecondHandOffWhileTheFirstCollectionHasNotRun() {
    holdHandedOff = true;
    busyFor(1, 30);
    tickFor(QUIET.toSeconds());
    busyFor(1, 60);
    tickFor(600);
    assertThat(handedOff).hasSize(1);
  }

  @Test
  void aCollectionIsSkippedIfAnExchangeBeganBetweenTheTickAndItsRun() {
    holdHandedOff = true;
    busyFor(1, 30);
    tickFor(QUIET.toSeconds());
    activity.started();
    activity.ended();
    runHandedOff();
    assertThat(collections).hasValue(0);
    assertThat(release.releases()).isZero();
    holdHandedOff = false;
    // The next quiet period brings it back, once the interval since the skipped one has passed.
    assertThat(tickFor(MIN_INTERVAL.toSeconds() - 1)).isZero();
    assertThat(tickFor(1)).isEqualTo(1);
  }

  @Test
  void inProductionTheCollectionRunsOnAVirtualThreadNotTheEventLoopThatTicks() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      CompletableFuture<Thread> collectedOn = new CompletableFuture<>();
      IdleHeapRelease production =
          new IdleHeapRelease(
              activity,
              QUIET,
              MIN_INTERVAL,
              () -> collectedOn.complete(Thread.currentThread()),
              IdleHeapRelease.OFF_EVENT_LOOP,
              heap::get,
              GROWTH,
              t0);
      CompletableFuture<Boolean> tickedOnLoop = new CompletableFuture<>();
      vertx.runOnContext(
          v -> {
            activity.started();
            activity.ended();
            heap.set(40 * MIB);
            production.tick(t0 + SECOND); // sees the exchange
            boolean handedOff = production.tick(t0 + SECOND + QUIET.toNanos());
            tickedOnLoop.complete(handedOff && Context.isOnEventLoopThread());
          });
      assertThat(tickedOnLoop.get(10, TimeUnit.SECONDS)).isTrue();
      Thread collector = collectedOn.get(10, TimeUnit.SECONDS);
      assertThat(collector.isVirtual()).isTrue();
      assertThat(collector.getName()).isEqualTo("capgate-heap-release");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
