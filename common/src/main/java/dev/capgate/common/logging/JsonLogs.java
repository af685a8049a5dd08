package dev.capgate.common.logging;

import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * Installs {@link JsonLogFormatter} as the only java.util.logging handler (stderr), where both
 * deployables route every library's logging (SLF4J through slf4j-jdk14). Audit lines are not logs:
 * the sidecar writes them to stdout, so the two never interleave mid-line.
 */
public final class JsonLogs {
  /** The log level of both deployables ({@code --log-level} on the sidecar's command line). */
  public static final String LEVEL_ENV = "CAPGATE_LOG_LEVEL";

  public static final Level DEFAULT_LEVEL = Level.INFO;

  /** Libraries that are chatty below WARNING (Netty's leak detector, Vert.x). */
  private static final String[] NOISY = {"io.netty", "io.vertx"};

  /** Strong references: java.util.logging forgets the level of a logger nobody holds. */
  private static final java.util.List<Logger> HELD =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  private JsonLogs() {}

  public static void install(String component, Level level) {
    install(component, level, Map::of);
  }

  /**
   * @param context the context fields in scope on the logging thread (the operator's MDC)
   */
  public static void install(String component, Level level, Supplier<Map<String, String>> context) {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    Handler handler = new ConsoleHandler(); // stderr
    handler.setFormatter(new JsonLogFormatter(component, context));
    handler.setLevel(Level.ALL);
    root.addHandler(handler);
    setLevel(level);
  }

  /** The root level; noisy libraries stay at WARNING unless the level is stricter still. */
  public static void setLevel(Level level) {
    Logger.getLogger("").setLevel(level);
    Level noisy = level.intValue() > Level.WARNING.intValue() ? level : Level.WARNING;
    for (String name : NOISY) {
      Logger logger = Logger.getLogger(name);
      logger.setLevel(noisy);
      if (!HELD.contains(logger)) {
        HELD.add(logger);
      }
    }
  }
}
