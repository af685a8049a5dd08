package dev.capgate.sidecar.vault;

import java.time.Duration;

/**
 * Exponential back-off with a ceiling: after a failure, wait before trying again, twice as long
 * after each further failure, never longer than the ceiling, and start over after a success. The
 * ceiling is what bounds recovery: once Vault is back, service resumes at most that much later.
 */
final class Backoff {
  private final Duration initial;
  private final Duration ceiling;
  private int failures;

  Backoff(Duration initial, Duration ceiling) {
    this.initial = initial;
    this.ceiling = ceiling;
  }

  static Backoff standard() {
    return new Backoff(Duration.ofMillis(250), Duration.ofSeconds(5));
  }

  /** Records a failure; returns how long to wait before the next attempt. */
  synchronized Duration failed() {
    failures = Math.min(failures + 1, 30);
    long millis = initial.toMillis() << Math.min(failures - 1, 20);
    return Duration.ofMillis(Math.min(millis, ceiling.toMillis()));
  }

  synchronized void succeeded() {
    failures = 0;
  }
}
