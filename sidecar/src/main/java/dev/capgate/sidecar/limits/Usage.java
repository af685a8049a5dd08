package dev.capgate.sidecar.limits;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one scope (a rule, or the session) has used in this pod: requests in flight, and requests
 * and body bytes since the session started. Kept across spec edits (a budget is per session
 * lifetime; an edit must not reset it), so the counters live apart from the limits in force.
 */
final class Usage {
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicLong requests = new AtomicLong();
  final AtomicLong bytes = new AtomicLong();

  /** Takes a slot when fewer than {@code max} are in flight. */
  boolean tryEnter(int max) {
    while (true) {
      int now = inFlight.get();
      if (now >= max) {
        return false;
      }
      if (inFlight.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  void leave() {
    inFlight.decrementAndGet();
  }

  /** Counts one request when fewer than {@code max} were counted. */
  boolean tryCountRequest(long max) {
    while (true) {
      long now = requests.get();
      if (now >= max) {
        return false;
      }
      if (requests.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }
}
