package dev.capgate.cli.command;

import dev.capgate.cli.kube.AgentSessions;
import dev.capgate.cli.kube.SessionPods;
import dev.capgate.cli.status.SessionSummary;
import dev.capgate.cli.status.StatusReport;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Sessions of the namespace: phase, Ready, user, agent, expiry, pods and activity.",
      "With SESSION: that session in full, its conditions, activity and pods."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:shown", "3:no such session", "4:the API server could not be used"})
public final class StatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(arity = "0..1", paramLabel = "SESSION", description = "One AgentSession.")
  String session;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (KubernetesClient client = kube.connect()) {
      String namespace = kube.namespace(client);
      AgentSessions sessions = new AgentSessions(client, namespace);
      Instant now = Instant.now();
      if (session == null) {
        List<SessionSummary> all = sessions.list().stream().map(SessionSummary::new).toList();
        if (all.isEmpty()) {
          out.println("No AgentSessions in namespace " + namespace + ".");
        } else {
          out.print(StatusReport.table(all, now));
        }
        return ExitCodes.OK;
      }
      var found = sessions.get(session);
      if (found.isEmpty()) {
        spec.commandLine()
            .getErr()
            .println("error: no AgentSession " + session + " in namespace " + namespace);
        return ExitCodes.NOT_FOUND;
      }
      out.print(
          StatusReport.detail(
              new SessionSummary(found.get()),
              new SessionPods(client, namespace).of(session),
              now));
      return ExitCodes.OK;
    }
  }
}
