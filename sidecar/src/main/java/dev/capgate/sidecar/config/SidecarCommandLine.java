package dev.capgate.sidecar.config;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.common.cli.FlagCommandLine;
import java.util.List;
import java.util.Map;

/**
 * {@code capgate-sidecar init|proxy|aot-train [--flag value ...]} on picocli, its model built in
 * code from {@link SidecarFlags} (no annotations, so no reflection over the sidecar's classes at
 * start: issue 13 counts the classes a sidecar loads). Values are checked by kind while parsing —
 * durations in the API's grammar ({@link Durations}, as {@code spec.ttl}) — and an unknown flag, a
 * stray argument or a bad value is a usage error: exit {@link #USAGE} (64, EX_USAGE).
 */
public final class SidecarCommandLine {
  /** A constant (inlined): naming it loads no picocli class. */
  public static final int USAGE = FlagCommandLine.USAGE;

  public static final String AOT_TRAIN = "aot-train";

  private SidecarCommandLine() {}

  /** What {@code main} does next. */
  public sealed interface Outcome {}

  /** Run {@code mode} ({@code init}, {@code proxy} or {@code aot-train}) with {@code config}. */
  public record Run(String mode, SidecarConfig config) implements Outcome {}

  /**
   * Exit with {@code code} after showing {@code text}: the help on stdout (0), or a usage error
   * (64) that names the problem and where the flags are listed.
   */
  public record Exit(int code, String text) implements Outcome {}

  public static Outcome parse(String[] args, Map<String, String> env) {
    // A pod's command line: the mode alone (the webhook sets everything else as CAPGATE_*
    // variables). Nothing to parse, so picocli is not even loaded: building its model costs a
    // cold JVM about 150 classes and 100 ms or more (sidecar/README.md, "Command line").
    if (args.length == 1 && isMode(args[0])) {
      return args[0].equals(AOT_TRAIN)
          ? new Run(AOT_TRAIN, null)
          : new Run(args[0], new SidecarConfig(SidecarFlags.of(args[0]), Map.of(), env));
    }
    return SidecarParser.parse(args, env);
  }

  /**
   * The flags of {@code mode} in {@code args} as name → text.
   *
   * @throws IllegalArgumentException for an unknown flag, a stray argument or a bad value
   */
  static Map<String, String> parseFlags(String mode, List<String> args) {
    return args.isEmpty() ? Map.of() : SidecarParser.parseFlags(mode, args);
  }

  private static boolean isMode(String arg) {
    return arg.equals(SidecarContract.INIT_ARG)
        || arg.equals(SidecarContract.PROXY_ARG)
        || arg.equals(AOT_TRAIN);
  }
}
