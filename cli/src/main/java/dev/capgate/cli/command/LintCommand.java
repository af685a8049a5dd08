package dev.capgate.cli.command;

import dev.capgate.api.v1alpha1.Violation;
import dev.capgate.cli.session.Lint;
import dev.capgate.cli.session.SessionDocument;
import dev.capgate.cli.session.SessionFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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
      "3:a file does not exist",
      "64:wrong command line"
    })
public final class LintCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "YAML or JSON files.")
  List<Path> files;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    int exit = ExitCodes.OK;
    for (Path file : files) {
      if (!Files.isRegularFile(file)) {
        spec.commandLine().getErr().println(file + ": no such file");
        return ExitCodes.NOT_FOUND;
      }
      List<SessionDocument> sessions;
      try {
        sessions = SessionFiles.read(file);
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
