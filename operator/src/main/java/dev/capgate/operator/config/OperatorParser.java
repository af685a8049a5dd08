package dev.capgate.operator.config;

import dev.capgate.api.v1alpha1.Durations;
import dev.capgate.operator.config.OperatorCommandLine.Exit;
import dev.capgate.operator.config.OperatorCommandLine.Outcome;
import dev.capgate.operator.config.OperatorCommandLine.Run;
import dev.capgate.operator.config.OperatorFlags.Flag;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/** {@link OperatorCommandLine}'s picocli side: the model, built in code, and the parse. */
final class OperatorParser {
  private OperatorParser() {}

  static Outcome parse(String[] args, Map<String, String> env) {
    CommandLine line = commandLine();
    ParseResult result;
    try {
      result = line.parseArgs(args);
    } catch (ParameterException e) {
      String suggestion = "";
      if (e instanceof CommandLine.UnmatchedArgumentException unmatched
          && !unmatched.getSuggestions().isEmpty()) {
        suggestion = "; did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?";
      }
      return new Exit(
          OperatorCommandLine.USAGE,
          e.getMessage()
              + suggestion
              + " (capgate-operator --help lists the flags; each also from its CAPGATE_*"
              + " variable)");
    }
    if (result.isUsageHelpRequested()) {
      StringWriter out = new StringWriter();
      line.usage(new PrintWriter(out));
      return new Exit(0, out.toString());
    }
    Map<String, String> flags = new HashMap<>();
    for (OptionSpec option : result.matchedOptions()) {
      if (!option.usageHelp()) {
        // Given twice, the last counts.
        flags.put(env(option.longestName()), option.originalStringValues().getLast());
      }
    }
    return new Run(OperatorCommandLine.merged(env, flags));
  }

  static CommandLine commandLine() {
    CommandSpec spec =
        CommandSpec.create()
            .name("capgate-operator")
            .addOption(
                OptionSpec.builder("-h", "--help")
                    .usageHelp(true)
                    .description("this help")
                    .build());
    spec.usageMessage()
        .description(
            "Capgate's operator: the AgentSession reconciler and the injection webhook. Every"
                + " flag also comes from CAPGATE_<FLAG> (e.g. --watch-namespaces:"
                + " CAPGATE_WATCH_NAMESPACES), which the chart sets; a flag wins.");
    for (Flag flag : OperatorFlags.ALL) {
      spec.addOption(
          OptionSpec.builder("--" + flag.name())
              .paramLabel(flag.kind().label)
              .type(type(flag.kind()))
              .arity("1")
              .description(flag.description() + " [" + flag.env() + "]")
              .build());
    }
    CommandLine line = new CommandLine(spec);
    line.registerConverter(Duration.class, OperatorParser::duration);
    line.setOverwrittenOptionsAllowed(true);
    line.setUsageHelpWidth(100);
    return line;
  }

  /** {@code --watch-namespaces} → {@code CAPGATE_WATCH_NAMESPACES}, as {@link Flag#env}. */
  private static String env(String option) {
    return new Flag(option.substring(2), OperatorFlags.Kind.TEXT, "").env();
  }

  /** The API's grammar, as OperatorConfig reads the variables. */
  static Duration duration(String text) {
    try {
      return Durations.parse(text.strip());
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(
          "must be a duration such as 30s, 10m or 1h30m, got '" + text + "'");
    }
  }

  private static Class<?> type(OperatorFlags.Kind kind) {
    return switch (kind) {
      case TEXT -> String.class;
      case NUMBER -> Integer.class;
      case BOOLEAN -> Boolean.class;
      case PATH -> Path.class;
      case DURATION -> Duration.class;
    };
  }
}
