package dev.capgate.cli.command;

import dev.capgate.cli.audit.AuditLine;
import dev.capgate.cli.audit.AuditLines;
import dev.capgate.cli.audit.AuditTable;
import dev.capgate.cli.kube.AgentSessions;
import dev.capgate.cli.kube.SessionPods;
import dev.capgate.cli.status.SessionSummary;
import dev.capgate.cli.status.StatusReport;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Sessions of the namespace: phase, Ready, user, agent, expiry, pods and activity.",
      "With SESSION: that session in full, its conditions, activity, pods and recent denials."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:shown", "3:no such session", "4:the API server could not be used"})
public final class StatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(arity = "0..1", paramLabel = "SESSION", description = "One AgentSession.")
  String session;

  @Option(
      names = "--denials",
      paramLabel = "N",
      defaultValue = "5",
      description =
          "With SESSION: the last N denials from its sidecars' audit lines (default: ${DEFAULT-VALUE};"
              + " 0: none, no log is read).")
  int denials;

  /**
   * The last denials in the logs of the session's running sidecars: what {@code status.activity}
   * summarizes, with the request ids {@code explain} takes. A pod whose sidecar has not started is
   * left out quietly (the pod table above shows its state).
   */
  private String recentDenials(SessionPods sessionPods, List<Pod> pods) {
    List<List<AuditLine>> perPod = new ArrayList<>();
    for (Pod pod : pods) {
      if (SessionPods.hasProxy(pod) && SessionPods.proxyStarted(pod)) {
        perPod.add(
            AuditLines.parseLog(
                pod.getMetadata().getName(),
                sessionPods.proxyLogOrWarn(pod, null, spec.commandLine().getErr())));
      }
    }
    List<AuditLine> denied =
        AuditLines.merge(perPod).stream().filter(l -> "deny".equals(l.decision())).toList();
    StringBuilder b = new StringBuilder("Recent denials (the sidecars' audit lines):\n");
    if (denied.isEmpty()) {
      return b.append("  (none in the logs of the running sidecars)\n").toString();
    }
    List<AuditLine> last = denied.subList(Math.max(0, denied.size() - denials), denied.size());
    AuditTable.format(last).lines().forEach(l -> b.append("  ").append(l).append('\n'));
    return b.toString();
  }

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
      SessionPods sessionPods = new SessionPods(client, namespace);
      List<Pod> pods = sessionPods.of(session);
      out.print(StatusReport.detail(new SessionSummary(found.get()), pods, now));
      if (denials > 0) {
        out.print(recentDenials(sessionPods, pods));
      }
      out.flush();
      return ExitCodes.OK;
    }
  }
}
