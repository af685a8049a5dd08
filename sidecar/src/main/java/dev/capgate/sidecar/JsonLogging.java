package dev.capgate.sidecar;

import dev.capgate.sidecar.audit.JsonWriter;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Structured logs only: every library (Netty and Vert.x through SLF4J → JUL, the JDK itself) ends
 * in one JUL root handler that prints one JSON object per line on stderr. Audit lines are the audit
 * package's and go to stdout, so the two streams never interleave mid-line.
 *
 * <p>The lines are written by the audit package's {@link JsonWriter}, the sidecar's one JSON
 * writer: a message holding a control character, U+2028 or a lone surrogate still makes one valid
 * line.
 *
 * <p>Exceptions are logged by class and message only (no stack-trace dump): a message is ours or a
 * library's, and none of ours ever carries a credential value.
 */
public final class JsonLogging {
  private JsonLogging() {}

  public static void install(Level level) {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    Handler handler = new ConsoleHandler(); // stderr
    handler.setFormatter(new JsonFormatter());
    handler.setLevel(Level.ALL);
    root.addHandler(handler);
    root.setLevel(level);
    // Netty's leak detector and Vert.x chatter are DEBUG-level noise at INFO; keep them at WARNING.
    Logger.getLogger("io.netty").setLevel(Level.WARNING);
    Logger.getLogger("io.vertx").setLevel(Level.WARNING);
  }

  static final class JsonFormatter extends Formatter {
    @Override
    public String format(LogRecord record) {
      StringBuilder out = new StringBuilder(256);
      JsonWriter json =
          new JsonWriter(out)
              .field("ts", Instant.ofEpochMilli(record.getMillis()).toString())
              .field("level", record.getLevel().getName())
              .fieldOrNull("logger", record.getLoggerName())
              .fieldOrNull("msg", formatMessage(record));
      Throwable thrown = record.getThrown();
      if (thrown != null) {
        json.field("error", thrown.getClass().getName())
            .field("errorMessage", String.valueOf(thrown.getMessage()));
        StackTraceElement[] trace = thrown.getStackTrace();
        if (trace.length > 0) {
          json.field("at", trace[0].toString());
        }
      }
      json.end();
      return out.append('\n').toString();
    }
  }
}
