package dev.capgate.cli.command;

import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

/** Polls until done or the deadline: the plugin waits on the operator, which answers in seconds. */
final class Waiting {
  static final Duration POLL = Duration.ofMillis(500);

  private Waiting() {}

  /** True when {@code done} became true before {@code timeout}. */
  static boolean until(Duration timeout, BooleanSupplier done) throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (true) {
      if (done.getAsBoolean()) {
        return true;
      }
      if (!Instant.now().isBefore(deadline)) {
        return false;
      }
      Thread.sleep(POLL);
    }
  }
}
