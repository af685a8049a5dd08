package dev.capgate.operator;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.slf4j.MDC;

/**
 * One JSON object per line: time, level, logger, message, the MDC fields in scope (session,
 * namespace, admission uid) and the stack trace, if any. Logs never carry key material or
 * credential values: callers log names and fingerprints only.
 */
public final class JsonLogFormatter extends Formatter {

  /** Routes java.util.logging (and so slf4j-jdk14) to stderr through this formatter. */
  public static void install(Level level) {
    var root = java.util.logging.Logger.getLogger("");
    for (var handler : root.getHandlers()) {
      root.removeHandler(handler);
    }
    var handler = new java.util.logging.ConsoleHandler();
    handler.setFormatter(new JsonLogFormatter());
    handler.setLevel(level);
    root.addHandler(handler);
    root.setLevel(level);
  }

  @Override
  public String format(LogRecord record) {
    StringBuilder out = new StringBuilder(256).append('{');
    field(out, "time", Instant.ofEpochMilli(record.getMillis()).toString());
    field(out, "level", level(record.getLevel()));
    field(out, "logger", record.getLoggerName());
    field(out, "message", formatMessage(record));
    Map<String, String> mdc = MDC.getCopyOfContextMap();
    if (mdc != null) {
      mdc.forEach((k, v) -> field(out, k, v));
    }
    if (record.getThrown() != null) {
      StringWriter trace = new StringWriter();
      record.getThrown().printStackTrace(new PrintWriter(trace));
      field(out, "error", trace.toString());
    }
    out.setLength(out.length() - 1);
    return out.append("}\n").toString();
  }

  private static String level(Level level) {
    int v = level.intValue();
    return v >= 1000
        ? "ERROR"
        : v >= 900 ? "WARN" : v >= 800 ? "INFO" : v >= 500 ? "DEBUG" : "TRACE";
  }

  private static void field(StringBuilder out, String name, String value) {
    quote(out, name);
    out.append(':');
    if (value == null) {
      out.append("null");
    } else {
      quote(out, value);
    }
    out.append(',');
  }

  private static void quote(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
