package dev.capgate.sidecar.config;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.Durations;
import dev.capgate.sidecar.config.SidecarCommandLine.Exit;
import dev.capgate.sidecar.config.SidecarCommandLine.Outcome;
import dev.capgate.sidecar.config.SidecarCommandLine.Run;
import dev.capgate.sidecar.config.SidecarFlags.Flag;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/** {@link SidecarCommandLine}'s picocli side: the model, built in code, and the parse. */
final class SidecarParser {
  private static final int USAGE = SidecarCommandLine.USAGE;
  private static final String AOT_TRAIN = SidecarCommandLine.AOT_TRAIN;

  private SidecarParser() {}

  static Outcome parse(String[] args, Map<String, String> env) {
    CommandLine line = commandLine();
    ParseResult result;
    try {
      result = line.parseArgs(args);
    } catch (ParameterException e) {
      String mode = e.getCommandLine().getCommandName();
      String suggestion = "";
      if (e instanceof CommandLine.UnmatchedArgumentException unmatched
          && !unmatched.getSuggestions().isEmpty()) {
        suggestion = "; did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?";
      }
      return new Exit(
          USAGE,
          e.getMessage()
              + suggestion
              + " ("
              + (mode.equals(line.getCommandName())
                  ? line.getCommandName()
                  : "capgate-sidecar " + mode)
              + " --help lists the flags; each also from its CAPGATE_* variable)");
    }
    if (result.isUsageHelpRequested()) {
      return new Exit(0, usage(line));
    }
    if (!result.hasSubcommand()) {
      return new Exit(
          USAGE,
          "usage: capgate-sidecar init|proxy [--flag value ...] | aot-train"
              + " (capgate-sidecar --help)");
    }
    ParseResult sub = result.subcommand();
    String mode = sub.commandSpec().name();
    if (sub.isUsageHelpRequested()) {
      return new Exit(0, usage(sub.commandSpec().commandLine()));
    }
    if (mode.equals(AOT_TRAIN)) {
      return new Run(mode, null);
    }
    return new Run(mode, new SidecarConfig(SidecarFlags.of(mode), flags(sub), env));
  }

  /**
   * The flags of {@code mode} in {@code args} as name → text.
   *
   * @throws IllegalArgumentException for an unknown flag, a stray argument or a bad value
   */
  static Map<String, String> parseFlags(String mode, List<String> args) {
    CommandLine line = modeLine(mode);
    try {
      return flags(line.parseArgs(args.toArray(String[]::new)));
    } catch (ParameterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static Map<String, String> flags(ParseResult result) {
    Map<String, String> flags = new LinkedHashMap<>();
    for (OptionSpec option : result.matchedOptions()) {
      if (option.usageHelp()) {
        continue;
      }
      List<String> values = option.originalStringValues();
      // Given twice, the last one counts (as before picocli).
      flags.put(option.longestName().substring(2), values.getLast());
    }
    return flags;
  }

  static CommandLine commandLine() {
    CommandSpec root =
        CommandSpec.create()
            .name("capgate-sidecar")
            .addOption(help())
            .addSubcommand(SidecarContract.INIT_ARG, modeLine(SidecarContract.INIT_ARG))
            .addSubcommand(SidecarContract.PROXY_ARG, modeLine(SidecarContract.PROXY_ARG))
            .addSubcommand(
                AOT_TRAIN,
                new CommandLine(
                    CommandSpec.create()
                        .name(AOT_TRAIN)
                        .addOption(help())
                        .usageMessage(
                            new CommandLine.Model.UsageMessageSpec()
                                .description(
                                    "the image build's AOT training run (never a pod's)"))));
    root.usageMessage()
        .description(
            "Capgate's sidecar: init writes the pod's interception rules and exits, proxy runs"
                + " the proxy. Every flag also comes from CAPGATE_<FLAG> (e.g. --proxy-port:"
                + " CAPGATE_PROXY_PORT); a flag wins.");
    return configured(new CommandLine(root));
  }

  private static CommandLine modeLine(String mode) {
    CommandSpec spec = CommandSpec.create().name(mode).addOption(help());
    spec.usageMessage()
        .description(
            mode.equals(SidecarContract.INIT_ARG)
                ? "Writes the pod's interception rules (iptables) and the agents' trust files."
                : "Runs the proxy: transparent listener, DNS proxy, admin server.");
    for (Flag flag : SidecarFlags.of(mode)) {
      spec.addOption(
          OptionSpec.builder("--" + flag.name())
              .paramLabel(flag.kind().label)
              .type(type(flag.kind()))
              .arity("1")
              .description(flag.description() + " [" + flag.env() + "]")
              .build());
    }
    return configured(new CommandLine(spec));
  }

  private static CommandLine configured(CommandLine line) {
    line.registerConverter(Duration.class, SidecarParser::duration);
    line.setOverwrittenOptionsAllowed(true);
    line.setUsageHelpWidth(100);
    return line;
  }

  /** The API's grammar, as {@link SidecarConfig#getDuration} reads the environment's values. */
  static Duration duration(String text) {
    try {
      return Durations.parse(text.strip());
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(
          "must be a duration such as 30s, 10m or 1h30m, got '" + text + "'");
    }
  }

  private static Class<?> type(SidecarFlags.Kind kind) {
    return switch (kind) {
      case TEXT -> String.class;
      case NUMBER -> Integer.class;
      case BOOLEAN -> Boolean.class;
      case PATH -> Path.class;
      case DURATION -> Duration.class;
    };
  }

  private static OptionSpec help() {
    return OptionSpec.builder("-h", "--help").usageHelp(true).description("this help").build();
  }

  private static String usage(CommandLine line) {
    StringWriter out = new StringWriter();
    line.usage(new PrintWriter(out));
    return out.toString();
  }
}
