package dev.capgate.common.logging;

import java.util.Locale;
import java.util.logging.Level;

/**
 * Log levels by the names operators know ({@code ERROR WARN INFO DEBUG TRACE}, as SLF4J has them),
 * mapped onto java.util.logging, where every library's logging ends in both deployables.
 */
public final class LogLevels {
  private LogLevels() {}

  /**
   * {@code ERROR}, {@code WARN}, {@code INFO}, {@code DEBUG}, {@code TRACE} or a java.util.logging
   * name ({@code SEVERE}, {@code WARNING}, {@code FINE}, ...), any case.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static Level parse(String text) {
    String name = text == null ? "" : text.strip().toUpperCase(Locale.ROOT);
    return switch (name) {
      case "ERROR", "SEVERE" -> Level.SEVERE;
      case "WARN", "WARNING" -> Level.WARNING;
      case "INFO" -> Level.INFO;
      case "DEBUG", "FINE", "CONFIG" -> Level.FINE;
      case "TRACE", "FINER", "FINEST", "ALL" -> Level.FINEST;
      case "OFF" -> Level.OFF;
      default ->
          throw new IllegalArgumentException(
              "log level must be one of ERROR, WARN, INFO, DEBUG, TRACE, got '" + text + "'");
    };
  }

  /** The schema's name of a java.util.logging level. */
  public static String name(Level level) {
    int v = level.intValue();
    return v >= Level.SEVERE.intValue()
        ? "ERROR"
        : v >= Level.WARNING.intValue()
            ? "WARN"
            : v >= Level.INFO.intValue() ? "INFO" : v >= Level.FINE.intValue() ? "DEBUG" : "TRACE";
  }
}
