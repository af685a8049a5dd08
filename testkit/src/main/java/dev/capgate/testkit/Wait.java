package dev.capgate.testkit;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/** Polling with a deadline and an error that says what was awaited and what was last seen. */
final class Wait {
  private Wait() {}

  /**
   * Polls {@code condition} every {@code 100 ms} until it returns true. Exceptions thrown by the
   * condition count as "not yet" (a port not yet open is normal) but the last one is reported.
   * {@code diagnostics} is evaluated only on failure (typically the tail of a component log).
   */
  static void until(
      String what, Duration timeout, Callable<Boolean> condition, Supplier<String> diagnostics) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (true) {
      try {
        if (Boolean.TRUE.equals(condition.call())) {
          return;
        }
      } catch (GiveUp e) {
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + what, e);
      } catch (Exception e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        String detail = diagnostics == null ? "" : diagnostics.get();
        throw new IllegalStateException(
            "timed out after "
                + timeout.toSeconds()
                + " s waiting for "
                + what
                + (last == null ? "" : " (last error: " + last + ")")
                + (detail.isEmpty() ? "" : "\n" + detail),
            last);
      }
      sleep(100);
    }
  }

  /** Thrown by a condition that knows waiting longer is pointless (e.g. the process died). */
  static final class GiveUp extends RuntimeException {
    GiveUp(String message) {
      super(message);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
