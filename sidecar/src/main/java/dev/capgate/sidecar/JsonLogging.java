package dev.capgate.sidecar;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
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
 * <p>Exceptions are logged by class and message only (no stack-trace dump): a message is ours or a
 * library's, and none of ours ever carries a credential value.
 */
public final class JsonLogging {
  private static final JsonFactory JSON = new JsonFactory();

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
      StringWriter out = new StringWriter(256);
      try (JsonGenerator json = JSON.createGenerator(out)) {
        json.writeStartObject();
        json.writeStringField("ts", Instant.ofEpochMilli(record.getMillis()).toString());
        json.writeStringField("level", record.getLevel().getName());
        json.writeStringField("logger", record.getLoggerName());
        json.writeStringField("msg", formatMessage(record));
        Throwable thrown = record.getThrown();
        if (thrown != null) {
          json.writeStringField("error", thrown.getClass().getName());
          json.writeStringField("errorMessage", String.valueOf(thrown.getMessage()));
          StackTraceElement[] trace = thrown.getStackTrace();
          if (trace.length > 0) {
            json.writeStringField("at", trace[0].toString());
          }
        }
        json.writeEndObject();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return out.append('\n').toString();
    }
  }
}
