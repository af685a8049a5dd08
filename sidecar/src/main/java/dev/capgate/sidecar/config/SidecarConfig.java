package dev.capgate.sidecar.config;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.Durations;
import dev.capgate.common.cli.Flag;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Settings of both modes. Each flag {@code --some-name value} (or {@code --some-name=value}) can
 * also come from the environment as {@code CAPGATE_SOME_NAME} ({@link SidecarContract#envOf}); a
 * flag wins over the environment, so a pod spec sets env vars and a developer overrides them on the
 * command line. The names the webhook sets are {@link SidecarContract}'s; the flags of each mode
 * are {@link SidecarFlags}', parsed by {@link SidecarCommandLine}.
 */
public final class SidecarConfig {
  private final Set<String> known;
  private final Map<String, String> flags;
  private final Map<String, String> env;

  SidecarConfig(List<Flag> known, Map<String, String> flags, Map<String, String> env) {
    this.known = known.stream().map(Flag::name).collect(Collectors.toSet());
    this.flags = Map.copyOf(flags);
    this.env = env;
  }

  /**
   * The proxy's settings from {@code args} (its flags only, as after {@code capgate-sidecar proxy})
   * and {@code env}.
   *
   * @throws IllegalArgumentException for an unknown flag, a stray argument or a bad value
   */
  public static SidecarConfig parse(List<String> args, Map<String, String> env) {
    return new SidecarConfig(
        SidecarFlags.PROXY, SidecarCommandLine.parseFlags(SidecarContract.PROXY_ARG, args), env);
  }

  /**
   * @throws IllegalStateException for a name that is not one of the mode's flags: it could never be
   *     given on the command line (add it to {@link SidecarFlags})
   */
  public Optional<String> get(String name) {
    if (!known.contains(name)) {
      throw new IllegalStateException(
          "--" + name + " is read but not declared in SidecarFlags for this mode");
    }
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
   * Durations#parse}, as {@code spec.ttl}); the command line checks flags the same way, this the
   * environment's values.
   */
  public Duration getDuration(String name, Duration fallback) {
    return get(name)
        .map(
            v -> {
              try {
                return Durations.parse(v.strip());
              } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                    "--"
                        + name
                        + " ("
                        + SidecarContract.envOf(name)
                        + ") must be a duration such as 30s, 10m or 1h30m, got '"
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
