package dev.capgate.common.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The picocli side of the operator's and the sidecar's command lines: a command whose options are
 * {@link Flag}s, built in code (no annotations, so no reflection over the callers' classes), values
 * checked by kind while parsing, the last of a flag given twice counting, and a usage error that
 * names the problem, suggests the flag meant and says where the flags are listed (exit {@link
 * #USAGE}). Only the callers' parsers use it, after they have seen there are flags to parse.
 */
public final class FlagCommandLine {
  /** EX_USAGE: an unknown flag, a stray argument or a bad value. */
  public static final int USAGE = 64;

  private FlagCommandLine() {}

  /** What parsing a command line came to. */
  public sealed interface Result {}

  /**
   * Stop after showing {@code text}: the help asked for (0, stdout) or a usage error ({@link
   * #USAGE}, {@link #usageError}).
   */
  public record Stop(int code, String text) implements Result {}

  /** Go on with the parse of the innermost command given (a mode's, if the line has modes). */
  public record Parsed(ParseResult result) implements Result {}

  /**
   * Parses {@code args} with {@code line}: a usage error or {@code --help} (of the command or of
   * the mode given) is a {@link Stop}, anything else the innermost command's parse.
   */
  public static Result parse(CommandLine line, String[] args) {
    ParseResult result;
    try {
      result = line.parseArgs(args);
    } catch (ParameterException e) {
      return new Stop(USAGE, usageError(e));
    }
    while (true) {
      if (result.isUsageHelpRequested()) {
        return new Stop(0, usage(result.commandSpec().commandLine()));
      }
      if (!result.hasSubcommand()) {
        return new Parsed(result);
      }
      result = result.subcommand();
    }
  }

  /** A command {@code name} with {@code -h/--help} and one option per flag. */
  public static CommandSpec command(String name, String description, List<Flag> flags) {
    CommandSpec spec = CommandSpec.create().name(name).addOption(help());
    spec.usageMessage().description(description);
    for (Flag flag : flags) {
      spec.addOption(
          OptionSpec.builder("--" + flag.name())
              .paramLabel(flag.kind().label())
              .type(type(flag.kind()))
              .arity("1")
              .description(flag.description() + " [" + flag.env() + "]")
              .build());
    }
    return spec;
  }

  /** {@code -h}, {@code --help}: for commands built apart, such as a mode without flags. */
  public static OptionSpec help() {
    return OptionSpec.builder("-h", "--help").usageHelp(true).description("this help").build();
  }

  /**
   * Durations read with {@code grammar} (the API's, as the variables are read: the caller passes
   * {@code Durations::parse}, which common cannot depend on), a flag given twice allowed, 100
   * columns of help. Returns {@code line}.
   */
  public static CommandLine configured(CommandLine line, Function<String, Duration> grammar) {
    line.registerConverter(Duration.class, text -> duration(text, grammar));
    line.setOverwrittenOptionsAllowed(true);
    line.setUsageHelpWidth(100);
    return line;
  }

  /** The matched flags as name (without {@code --}) → text; given twice, the last counts. */
  public static Map<String, String> flags(ParseResult result) {
    Map<String, String> flags = new LinkedHashMap<>();
    for (OptionSpec option : result.matchedOptions()) {
      if (!option.usageHelp()) {
        flags.put(option.longestName().substring(2), option.originalStringValues().getLast());
      }
    }
    return flags;
  }

  /**
   * picocli's message, a did-you-mean for an unknown flag close to a known one, and where the flags
   * are listed: {@code --help} of the command that refused (a mode's for a mode's flag).
   */
  public static String usageError(ParameterException e) {
    String suggestion = "";
    if (e instanceof CommandLine.UnmatchedArgumentException unmatched
        && !unmatched.getSuggestions().isEmpty()) {
      suggestion = "; did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?";
    }
    return e.getMessage()
        + suggestion
        + " ("
        + e.getCommandLine().getCommandSpec().qualifiedName()
        + " --help lists the flags; each also from its CAPGATE_* variable)";
  }

  /** The help text of {@code line}. */
  public static String usage(CommandLine line) {
    StringWriter out = new StringWriter();
    line.usage(new PrintWriter(out));
    return out.toString();
  }

  static Duration duration(String text, Function<String, Duration> grammar) {
    try {
      return grammar.apply(text.strip());
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(
          "must be a duration such as 30s, 10m or 1h30m, got '" + text + "'");
    }
  }

  private static Class<?> type(Flag.Kind kind) {
    return switch (kind) {
      case TEXT -> String.class;
      case NUMBER -> Integer.class;
      case BOOLEAN -> Boolean.class;
      case PATH -> Path.class;
      case DURATION -> Duration.class;
    };
  }
}
