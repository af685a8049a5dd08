package dev.capgate.cli.command;

import picocli.CommandLine.Command;

@Command(
    name = "kubectl capgate",
    mixinStandardHelpOptions = true,
    versionProvider = CapgateCommand.Version.class,
    description =
        "Capgate's kubectl plugin: sessions, their audit, and offline checks of session files.",
    subcommands = {
      StatusCommand.class,
      AuditCommand.class,
      SuggestCommand.class,
      ExplainCommand.class,
      LintCommand.class,
      TestCommand.class,
      RevokeCommand.class,
      RecoverCommand.class,
      ApprovalsCommand.class,
      ApproveCommand.class,
      RejectCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:done; allowed; valid",
      "1:the answer is no (lint violations, a denied request, a failed recovery)",
      "2:the operator did not confirm in time (revoke, recover)",
      "3:not found (session, request id, file)",
      "4:the API server or a file could not be used",
      "64:wrong command line"
    })
public final class CapgateCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    // No verb: the usage, as kubectl does for a command group.
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The version of the jar (its manifest), or "development" from classes. */
  static final class Version implements picocli.CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = CapgateCommand.class.getPackage().getImplementationVersion();
      return new String[] {"kubectl-capgate " + (v == null ? "development" : v)};
    }
  }
}
