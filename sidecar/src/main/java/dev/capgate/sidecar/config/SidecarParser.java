package dev.capgate.sidecar.config;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.Durations;
import dev.capgate.common.cli.FlagCommandLine;
import dev.capgate.sidecar.config.SidecarCommandLine.Exit;
import dev.capgate.sidecar.config.SidecarCommandLine.Outcome;
import dev.capgate.sidecar.config.SidecarCommandLine.Run;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * {@link SidecarCommandLine}'s picocli side: {@link FlagCommandLine} over {@link SidecarFlags}, one
 * subcommand per mode.
 */
final class SidecarParser {
  private static final int USAGE = SidecarCommandLine.USAGE;
  private static final String AOT_TRAIN = SidecarCommandLine.AOT_TRAIN;

  private SidecarParser() {}

  static Outcome parse(String[] args, Map<String, String> env) {
    return switch (FlagCommandLine.parse(commandLine(), args)) {
      case FlagCommandLine.Stop(int code, String text) -> new Exit(code, text);
      case FlagCommandLine.Parsed(ParseResult parsed) -> run(parsed, env);
    };
  }

  /** {@code parsed}: the mode's parse, or the root's when no mode was given. */
  private static Outcome run(ParseResult parsed, Map<String, String> env) {
    if (parsed.commandSpec().parent() == null) {
      return new Exit(
          USAGE,
          "usage: capgate-sidecar init|proxy [--flag value ...] | aot-train"
              + " (capgate-sidecar --help)");
    }
    String mode = parsed.commandSpec().name();
    if (mode.equals(AOT_TRAIN)) {
      return new Run(mode, null);
    }
    return new Run(
        mode, new SidecarConfig(SidecarFlags.of(mode), FlagCommandLine.flags(parsed), env));
  }

  /**
   * The flags of {@code mode} in {@code args} as name → text.
   *
   * @throws IllegalArgumentException for an unknown flag, a stray argument or a bad value
   */
  static Map<String, String> parseFlags(String mode, List<String> args) {
    CommandLine line = modeLine(mode);
    try {
      return FlagCommandLine.flags(line.parseArgs(args.toArray(String[]::new)));
    } catch (ParameterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  static CommandLine commandLine() {
    CommandSpec root =
        CommandSpec.create()
            .name("capgate-sidecar")
            .addOption(FlagCommandLine.help())
            .addSubcommand(SidecarContract.INIT_ARG, modeLine(SidecarContract.INIT_ARG))
            .addSubcommand(SidecarContract.PROXY_ARG, modeLine(SidecarContract.PROXY_ARG))
            .addSubcommand(
                AOT_TRAIN,
                new CommandLine(
                    FlagCommandLine.command(
                        AOT_TRAIN,
                        "the image build's AOT training run (never a pod's)",
                        List.of())));
    root.usageMessage()
        .description(
            "Capgate's sidecar: init writes the pod's interception rules and exits, proxy runs"
                + " the proxy. Every flag also comes from CAPGATE_<FLAG> (e.g. --proxy-port:"
                + " CAPGATE_PROXY_PORT); a flag wins.");
    return configured(new CommandLine(root));
  }

  private static CommandLine modeLine(String mode) {
    return configured(
        new CommandLine(
            FlagCommandLine.command(
                mode,
                mode.equals(SidecarContract.INIT_ARG)
                    ? "Writes the pod's interception rules (iptables) and the agents' trust files."
                    : "Runs the proxy: transparent listener, DNS proxy, admin server.",
                SidecarFlags.of(mode))));
  }

  /** Durations in the API's grammar, as {@link SidecarConfig#getDuration} reads the variables. */
  private static CommandLine configured(CommandLine line) {
    return FlagCommandLine.configured(line, Durations::parse);
  }
}
