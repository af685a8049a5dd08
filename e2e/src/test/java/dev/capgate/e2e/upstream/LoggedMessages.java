package dev.capgate.e2e.upstream;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The raw messages one logger (and its children) logs while attached: what the GitHub App ITs
 * search for minted tokens and the App key. Holds its logger, so the handler stays on it.
 */
public final class LoggedMessages extends Handler {
  private final Logger logger;
  private final List<String> messages = new CopyOnWriteArrayList<>();

  public LoggedMessages(String loggerName) {
    this.logger = Logger.getLogger(loggerName);
  }

  /** Starts collecting (a test's start). */
  public void attach() {
    logger.addHandler(this);
  }

  /** Stops collecting; what was collected stays. */
  public void detach() {
    logger.removeHandler(this);
  }

  /** The messages so far, unformatted (the message text, no parameters). */
  public List<String> messages() {
    return messages;
  }

  @Override
  public void publish(LogRecord record) {
    messages.add(String.valueOf(record.getMessage()));
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
