package dev.capgate.sidecar.stack;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Every java.util.logging line of the test JVM (the sidecar's, and the libraries' through
 * slf4j-jdk14), formatted with message, parameters and exception, so a test can prove that no
 * secret value reached a log line (invariant 1).
 */
public final class CapturedLogs extends Handler implements AutoCloseable {
  private final List<String> lines = new ArrayList<>();
  private final SimpleFormatter formatter = new SimpleFormatter();

  private CapturedLogs() {
    setLevel(Level.ALL);
  }

  /** Attaches to the root logger, with Capgate's own loggers at FINE. */
  public static CapturedLogs start() {
    CapturedLogs logs = new CapturedLogs();
    Logger.getLogger("").addHandler(logs);
    Logger.getLogger("dev.capgate").setLevel(Level.FINE);
    return logs;
  }

  @Override
  public synchronized void publish(LogRecord record) {
    lines.add(formatter.format(record));
  }

  public synchronized List<String> lines() {
    return List.copyOf(lines);
  }

  /** The lines that contain any of {@code secrets}. */
  public List<String> linesContainingAny(Collection<String> secrets) {
    return lines().stream()
        .filter(line -> secrets.stream().anyMatch(s -> !s.isEmpty() && line.contains(s)))
        .toList();
  }

  /** {@link #assertNoLineHolds}, then detaches, whatever the check found (a test class's end). */
  public void assertNoLineHoldsAndClose(Collection<String> secrets) {
    try {
      assertNoLineHolds(secrets);
    } finally {
      close();
    }
  }

  /**
   * Fails if any line holds one of {@code secrets} (saying how many, not which); else prints what
   * was checked.
   */
  public void assertNoLineHolds(Collection<String> secrets) {
    List<String> holding = linesContainingAny(secrets);
    if (!holding.isEmpty()) {
      // The lines themselves are not shown: the failure report must not spread the secret further.
      throw new AssertionError(holding.size() + " captured log line(s) hold a secret value");
    }
    System.out.printf(
        "[checked] %d captured log lines, none holds any of %d secret values%n",
        lines().size(), secrets.size());
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    Logger.getLogger("").removeHandler(this);
  }
}
