package dev.capgate.sidecar.config;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.Durations;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Settings of both modes. Each flag {@code --some-name value} (or {@code --some-name=value}) can
 * also come from the environment as {@code CAPGATE_SOME_NAME} ({@link SidecarContract#envOf}); a
 * flag wins over the environment, so a pod spec sets env vars and a developer overrides them on the
 * command line. The names the webhook sets are {@link SidecarContract}'s.
 */
public final class SidecarConfig {
  private final Map<String, String> flags;
  private final Map<String, String> env;

  private SidecarConfig(Map<String, String> flags, Map<String, String> env) {
    this.flags = flags;
    this.env = env;
  }

  /**
   * @throws IllegalArgumentException for an argument that is not a {@code --flag} with a value
   */
  public static SidecarConfig parse(List<String> args, Map<String, String> env) {
    Map<String, String> flags = new HashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--") || arg.length() < 3) {
        throw new IllegalArgumentException("expected a --flag, got '" + arg + "'");
      }
      int eq = arg.indexOf('=');
      if (eq > 0) {
        flags.put(arg.substring(2, eq), arg.substring(eq + 1));
      } else if (i + 1 < args.size()) {
        flags.put(arg.substring(2), args.get(++i));
      } else {
        throw new IllegalArgumentException("flag " + arg + " needs a value");
      }
    }
    return new SidecarConfig(flags, env);
  }

  public Optional<String> get(String name) {
    String value = flags.get(name);
    if (value == null) {
      value = env.get(SidecarContract.envOf(name));
    }
    return Optional.ofNullable(value).filter(v -> !v.isBlank());
  }

  /**
   * A setting by its environment variable's name ({@code CAPGATE_PROXY_PORT}, as {@link
   * SidecarContract} has them); the flag of that name ({@code --proxy-port}) wins.
   */
  public Optional<String> setting(String envName) {
    return get(SidecarContract.flagOf(envName));
  }

  public String get(String name, String fallback) {
    return get(name).orElse(fallback);
  }

  public int getInt(String name, int fallback) {
    return get(name).map(v -> parseInt(name, v)).orElse(fallback);
  }

  /** {@code true}/{@code false} (any case); anything else is refused. */
  public boolean getBoolean(String name, boolean fallback) {
    return get(name)
        .map(
            v ->
                switch (v.strip().toLowerCase(Locale.ROOT)) {
                  case "true" -> true;
                  case "false" -> false;
                  default ->
                      throw new IllegalArgumentException(
                          "--" + name + " must be true or false, got '" + v + "'");
                })
        .orElse(fallback);
  }

  public Optional<Path> getPath(String name) {
    return get(name).map(Path::of);
  }

  /**
   * A duration in the API's grammar ({@code 30s}, {@code 10m}, {@code 1h30m}: {@link
   * Durations#parse}, as {@code spec.ttl}), or a bare number of milliseconds ({@code 250}) for the
   * sub-second timeouts.
   */
  public Duration getDuration(String name, Duration fallback) {
    return get(name)
        .map(
            v -> {
              String text = v.strip();
              try {
                return !text.isEmpty() && text.chars().allMatch(Character::isDigit)
                    ? Duration.ofMillis(Long.parseLong(text))
                    : Durations.parse(text);
              } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                    "--"
                        + name
                        + " must be a duration such as 30s, 10m, 1h30m or 500 (ms), got '"
                        + v
                        + "'");
              }
            })
        .orElse(fallback);
  }

  private static int parseInt(String name, String value) {
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a number, got '" + value + "'");
    }
  }
}
