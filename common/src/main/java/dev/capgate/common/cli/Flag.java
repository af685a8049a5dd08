package dev.capgate.common.cli;

import java.util.Locale;

/**
 * One flag of a deployable's command line, which also comes from its variable: {@code
 * --watch-namespaces} is {@code CAPGATE_WATCH_NAMESPACES} ({@link #env}). Its kind says what the
 * value must be and is checked while parsing; the description is its line in {@code --help}. Holds
 * no picocli type: the flag lists are read on every start, the parser only when there are flags.
 */
public record Flag(String name, Kind kind, String description) {
  /** What a value must be; checked while parsing (variables: when the configuration reads them). */
  public enum Kind {
    TEXT("<text>"),
    NUMBER("<n>"),
    BOOLEAN("true|false"),
    PATH("<path>"),
    /** The API's grammar ({@code spec.ttl}): {@code 30s}, {@code 10m}, {@code 1h30m}. */
    DURATION("<duration>");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    /** The value's placeholder in {@code --help}. */
    public String label() {
      return label;
    }
  }

  public static final String ENV_PREFIX = "CAPGATE_";

  /** {@code CAPGATE_} and the name in upper case, {@code -} as {@code _}. */
  public String env() {
    return envOf(name);
  }

  /** {@code watch-namespaces} → {@code CAPGATE_WATCH_NAMESPACES}. */
  public static String envOf(String name) {
    return ENV_PREFIX + name.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  public static Flag text(String name, String description) {
    return new Flag(name, Kind.TEXT, description);
  }

  public static Flag number(String name, String description) {
    return new Flag(name, Kind.NUMBER, description);
  }

  public static Flag bool(String name, String description) {
    return new Flag(name, Kind.BOOLEAN, description);
  }

  public static Flag path(String name, String description) {
    return new Flag(name, Kind.PATH, description);
  }

  public static Flag duration(String name, String description) {
    return new Flag(name, Kind.DURATION, description);
  }
}
