package dev.capgate.cli.command;

import dev.capgate.cli.session.Lint;
import dev.capgate.cli.session.RequestTrial;
import dev.capgate.cli.session.SampleRequest;
import dev.capgate.cli.session.SessionDocument;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "test",
    mixinStandardHelpOptions = true,
    description = {
      "Runs sample requests through the sidecar's own policy code (connection, normalization,",
      "rules) against a session file, offline, and prints allow or deny, the rule, and which",
      "credential would be injected where (by name: no value is read)."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every request is allowed",
      "1:a request is denied, or the session is invalid (the sidecar would deny everything)",
      "3:the file (or the session in the cluster) does not exist, or holds no such session",
      "4:the API server could not be used (agentsession/NAME)",
      "64:wrong command line (e.g. a request that is not 'METHOD URL')"
    })
public final class TestCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin KubeOptions kube;

  @Parameters(
      index = "0",
      paramLabel = "FILE",
      description =
          "A session file (YAML or JSON), or agentsession/NAME for a session in the cluster.")
  String file;

  @Option(
      names = {"-r", "--request"},
      required = true,
      paramLabel = "'METHOD URL'",
      description = "e.g. 'GET https://api.github.com/repos/a/b'; repeatable.")
  List<String> requests;

  @Option(
      names = "--session",
      paramLabel = "NAME",
      description = "Which AgentSession of the file (default: the only one).")
  String session;

  @Override
  public Integer call() {
    List<SampleRequest> samples;
    try {
      samples = requests.stream().map(SampleRequest::parse).toList();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--request: " + e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<SessionDocument> sessions;
    try {
      sessions = SessionSource.load(file, kube);
    } catch (SessionSource.NotFound e) {
      err.println("error: " + e.getMessage());
      return ExitCodes.NOT_FOUND;
    } catch (IOException e) {
      err.println(e.getMessage());
      return ExitCodes.FAILED;
    }
    List<SessionDocument> chosen =
        sessions.stream().filter(s -> session == null || session.equals(s.name())).toList();
    if (chosen.size() != 1) {
      err.println(
          file
              + ": "
              + (chosen.isEmpty()
                  ? "no AgentSession" + (session == null ? "" : " named " + session)
                  : chosen.size() + " AgentSessions: choose one with --session"));
      return ExitCodes.NOT_FOUND;
    }
    SessionDocument doc = chosen.get(0);
    Lint.Result lint = Lint.check(doc);
    if (!lint.ok()) {
      out.println(doc.label() + " is invalid: the sidecar would deny every request. Violations:");
      lint.violations().forEach(v -> out.println("  " + v));
      out.flush();
      return ExitCodes.FAILED;
    }
    int exit = ExitCodes.OK;
    for (SampleRequest sample : samples) {
      RequestTrial.Outcome o = RequestTrial.run(doc, sample);
      out.println(sample);
      out.println(
          "  decision    " + (o.allowed() ? "allow" : "deny") + "  (at the " + o.stage() + ")");
      out.println("  connection  " + o.action().name().toLowerCase(java.util.Locale.ROOT));
      if (o.normalized() != null) {
        var n = o.normalized();
        out.println(
            "  as judged   " + n.method() + " " + n.host() + ":" + n.port() + " " + n.path());
      }
      out.println("  rule        " + (o.rule() == null ? "-" : o.rule()));
      out.println("  reason      " + o.reason());
      if (o.credentials().isEmpty()) {
        out.println("  credential  -");
      } else {
        o.credentials().forEach(c -> out.println("  credential  " + c));
      }
      if (!o.allowed()) {
        exit = ExitCodes.FAILED;
      }
    }
    out.flush();
    return exit;
  }
}
