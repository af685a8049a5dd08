package dev.capgate.common.logging;

import dev.capgate.common.json.JsonWriter;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * The one log schema of the operator and the sidecar: one JSON object per line with
 *
 * <ul>
 *   <li>{@code time} (ISO-8601 instant), {@code level} ({@code ERROR WARN INFO DEBUG TRACE}),
 *       {@code logger}, {@code message}, {@code component} ({@code operator} or {@code sidecar});
 *   <li>the caller's context fields in scope (the operator's MDC: {@code session}, {@code
 *       namespace}, ...), never overriding the fields above;
 *   <li>for an exception: {@code error} (its class), {@code cause} (the class of its root cause,
 *       when another) and {@code at} (the frame that threw).
 * </ul>
 *
 * <p>Exception messages and stack traces are left out on purpose: a library's message may echo what
 * it was sent or answered (an HTTP client a URL with its query, a Vault client a response body, a
 * parser the text it could not parse), and a log line is readable by whoever reads the pod's logs.
 * The code that catches an exception states what failed in {@code message}, in words that carry no
 * secret; the class and the throwing frame say where to look.
 *
 * <p>{@code time} and {@code message}, not the audit lines' {@code ts}: a log line and an audit
 * line in one stream (a container's merged log) are told apart by their first member.
 * docs/log.schema.json is the contract.
 */
public final class JsonLogFormatter extends Formatter {
  /** The fields every line has (or may have); context fields of the same name are dropped. */
  public static final Set<String> FIELDS =
      Set.of("time", "level", "logger", "message", "component", "error", "cause", "at");

  private final String component;
  private final Supplier<Map<String, String>> context;

  /**
   * @param component the deployable writing the line ({@code operator}, {@code sidecar})
   * @param context the context fields in scope on the logging thread (may return null)
   */
  public JsonLogFormatter(String component, Supplier<Map<String, String>> context) {
    this.component = component;
    this.context = context;
  }

  /** Without context fields. */
  public JsonLogFormatter(String component) {
    this(component, Map::of);
  }

  @Override
  public String format(LogRecord record) {
    StringBuilder out = new StringBuilder(256);
    JsonWriter json =
        new JsonWriter(out)
            .field("time", record.getInstant().toString())
            .field("level", LogLevels.name(record.getLevel()))
            .fieldOrNull("logger", record.getLoggerName())
            .fieldOrNull("message", formatMessage(record))
            .field("component", component);
    Map<String, String> fields = context.get();
    if (fields != null) {
      for (Map.Entry<String, String> f : fields.entrySet()) {
        if (f.getKey() != null && !FIELDS.contains(f.getKey())) {
          json.fieldOrNull(f.getKey(), f.getValue());
        }
      }
    }
    Throwable thrown = record.getThrown();
    if (thrown != null) {
      json.field("error", thrown.getClass().getName());
      Throwable root = thrown;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      if (root != thrown) {
        json.field("cause", root.getClass().getName());
      }
      StackTraceElement[] trace = thrown.getStackTrace();
      if (trace.length > 0) {
        json.field("at", trace[0].toString());
      }
    }
    json.end();
    return out.append('\n').toString();
  }
}
