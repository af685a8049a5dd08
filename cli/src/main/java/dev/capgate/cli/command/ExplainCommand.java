package dev.capgate.cli.command;

import dev.capgate.cli.audit.AuditLine;
import dev.capgate.cli.audit.AuditLines;
import dev.capgate.cli.audit.Explanation;
import dev.capgate.cli.kube.SessionPods;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "explain",
    mixinStandardHelpOptions = true,
    description = {
      "Finds the audit line of a request id (the requestId / instance of the agent's error body)",
      "in the sidecar logs of the namespace's session pods and explains the decision: the rule,",
      "the reason and the RFC 9457 problem type the agent got (docs/audit.md)."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:explained",
      "3:no audit line with that request id in the pods' logs",
      "4:the API server could not be used",
      "64:wrong command line"
    })
public final class ExplainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(index = "0", paramLabel = "REQUEST-ID", description = "e.g. 7gk2m9qa-1c")
  String requestId;

  @Option(
      names = "--session",
      paramLabel = "SESSION",
      description =
          "Search only that session's pods (default: every session pod of the namespace).")
  String session;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "text (default) or json (the audit line as the sidecar wrote it).")
  String output = "text";

  @Override
  public Integer call() {
    if (!output.equals("text") && !output.equals("json")) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "-o: text or json, not '" + output + "'");
    }
    PrintWriter out = spec.commandLine().getOut();
    try (KubernetesClient client = kube.connect()) {
      String namespace = kube.namespace(client);
      SessionPods sessionPods = new SessionPods(client, namespace);
      List<Pod> pods =
          (session == null ? sessionPods.all() : sessionPods.of(session))
              .stream().filter(SessionPods::hasProxy).toList();
      for (Pod pod : pods) {
        String name = pod.getMetadata().getName();
        Optional<AuditLine> line =
            AuditLines.find(
                AuditLines.parseLog(
                    name, sessionPods.proxyLogOrWarn(pod, null, spec.commandLine().getErr())),
                requestId);
        if (line.isPresent()) {
          out.print(
              output.equals("json") ? line.get().raw() + "\n" : Explanation.explain(line.get()));
          out.flush();
          return ExitCodes.OK;
        }
      }
      spec.commandLine()
          .getErr()
          .println(
              "error: no audit line with requestId "
                  + requestId
                  + " in the logs of "
                  + pods.size()
                  + " session pod(s) of namespace "
                  + namespace
                  + " (a restarted or deleted pod's log is gone)");
      return ExitCodes.NOT_FOUND;
    }
  }
}
