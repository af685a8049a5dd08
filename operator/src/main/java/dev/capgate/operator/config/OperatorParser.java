package dev.capgate.operator.config;

import dev.capgate.api.v1alpha1.Durations;
import dev.capgate.common.cli.Flag;
import dev.capgate.common.cli.FlagCommandLine;
import dev.capgate.operator.config.OperatorCommandLine.Exit;
import dev.capgate.operator.config.OperatorCommandLine.Outcome;
import dev.capgate.operator.config.OperatorCommandLine.Run;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * {@link OperatorCommandLine}'s picocli side: {@link FlagCommandLine} over {@link OperatorFlags}.
 */
final class OperatorParser {
  private static final String NAME = "capgate-operator";

  private OperatorParser() {}

  static Outcome parse(String[] args, Map<String, String> env) {
    return switch (FlagCommandLine.parse(commandLine(), args)) {
      case FlagCommandLine.Stop(int code, String text) -> new Exit(code, text);
      case FlagCommandLine.Parsed(ParseResult result) -> {
        Map<String, String> flags = new HashMap<>();
        FlagCommandLine.flags(result).forEach((name, value) -> flags.put(Flag.envOf(name), value));
        yield new Run(OperatorCommandLine.merged(env, flags));
      }
    };
  }

  static CommandLine commandLine() {
    return FlagCommandLine.configured(
        new CommandLine(
            FlagCommandLine.command(
                NAME,
                "Capgate's operator: the AgentSession reconciler and the injection webhook. Every"
                    + " flag also comes from CAPGATE_<FLAG> (e.g. --watch-namespaces:"
                    + " CAPGATE_WATCH_NAMESPACES), which the chart sets; a flag wins.",
                OperatorFlags.ALL)),
        Durations::parse);
  }
}
