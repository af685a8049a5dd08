package dev.capgate.cli.command;

import dev.capgate.api.v1alpha1.Violation;
import dev.capgate.cli.session.Lint;
import dev.capgate.cli.session.SessionDocument;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "lint",
    mixinStandardHelpOptions = true,
    description = {
      "Checks session files offline with the validator the operator and the sidecar run, and",
      "compiles their rules as the sidecar does. Unknown fields are reported (the API server",
      "would drop them). No cluster needed."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every AgentSession is valid",
      "1:a violation, or a file with no AgentSession or that is not YAML/JSON",
      "3:a file (or session) does not exist",
      "4:the API server could not be used (agentsession/NAME)",
      "64:wrong command line"
    })
public final class LintCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin KubeOptions kube;

  @Parameters(
      arity = "1..*",
      paramLabel = "FILE",
      description = "YAML or JSON files, or agentsession/NAME for a session in the cluster.")
  List<String> files;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    int exit = ExitCodes.OK;
    for (String file : files) {
      List<SessionDocument> sessions;
      try {
        sessions = SessionSource.load(file, kube);
      } catch (SessionSource.NotFound e) {
        spec.commandLine().getErr().println("error: " + e.getMessage());
        return ExitCodes.NOT_FOUND;
      } catch (IOException e) {
        out.println(e.getMessage());
        exit = ExitCodes.FAILED;
        continue;
      }
      if (sessions.isEmpty()) {
        out.println(file + ": no AgentSession in this file");
        exit = ExitCodes.FAILED;
        continue;
      }
      for (SessionDocument session : sessions) {
        Lint.Result result = Lint.check(session);
        if (result.ok()) {
          var s = session.spec();
          out.println(
              file
                  + ": "
                  + session.label()
                  + ": valid ("
                  + s.egress().size()
                  + " egress rule(s), "
                  + s.credentialsOrEmpty().size()
                  + " credential(s))");
        } else {
          exit = ExitCodes.FAILED;
          out.println(
              file + ": " + session.label() + ": " + result.violations().size() + " violation(s)");
          for (Violation v : result.violations()) {
            out.println("  " + v.field() + ": " + v.message());
          }
        }
      }
    }
    out.flush();
    return exit;
  }
}
