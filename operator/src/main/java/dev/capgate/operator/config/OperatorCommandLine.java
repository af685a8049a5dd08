package dev.capgate.operator.config;

import dev.capgate.common.cli.FlagCommandLine;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code capgate-operator [--flag value ...]} (and {@code aot-train}, the image build's): each flag
 * of {@link OperatorFlags} overrides its {@code CAPGATE_*} variable, and {@link OperatorConfig}
 * reads the result as it reads the environment. {@code --help} lists the flags; an unknown flag, a
 * stray argument or a bad value exits {@link #USAGE} (64). The chart passes no arguments, and then
 * picocli is not loaded ({@link OperatorParser} holds its types).
 */
public final class OperatorCommandLine {
  /** A constant (inlined): naming it loads no picocli class. */
  public static final int USAGE = FlagCommandLine.USAGE;

  public static final String AOT_TRAIN = "aot-train";

  private OperatorCommandLine() {}

  public sealed interface Outcome {}

  /** Start with these variables: the environment with the flags' values over it. */
  public record Run(Map<String, String> env) implements Outcome {}

  /** The image build's AOT training run. */
  public record Train() implements Outcome {}

  /** Exit with {@code code} after showing {@code text} (help: 0, stdout; usage error: 64). */
  public record Exit(int code, String text) implements Outcome {}

  public static Outcome parse(String[] args, Map<String, String> env) {
    if (args.length == 0) {
      return new Run(env);
    }
    if (args.length == 1 && args[0].equals(AOT_TRAIN)) {
      return new Train();
    }
    return OperatorParser.parse(args, env);
  }

  static Map<String, String> merged(Map<String, String> env, Map<String, String> flags) {
    Map<String, String> merged = new HashMap<>(env);
    merged.putAll(flags);
    return merged;
  }
}
