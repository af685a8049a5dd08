package dev.capgate.sidecar.footprint;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Exchanges in flight across the whole sidecar (every agent connection, every HTTP/2 stream), and
 * how many have begun since start: what {@link IdleHeapRelease} needs to know that the sidecar is
 * idle and was busy before. Two atomic updates per exchange, one per event, on the event loops.
 */
public final class ExchangeActivity {
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong started = new AtomicLong();

  /** An exchange began. */
  public void started() {
    started.incrementAndGet();
    inFlight.incrementAndGet();
  }

  /** That exchange ended (answered, switched to a splice, or cut). */
  public void ended() {
    inFlight.decrementAndGet();
  }

  /** Exchanges in flight now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** Exchanges begun since start (only ever grows). */
  public long startedTotal() {
    return started.get();
  }
}
