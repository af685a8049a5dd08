package dev.capgate.cli.command;

import dev.capgate.api.v1alpha1.ApprovalDecision;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "approve",
    mixinStandardHelpOptions = true,
    description = {
      "Approves a request held by a session's sidecar: the sidecar sends it on (the credential injected as usual) within a second.",
      "Needs patch on agentapprovals/status (the chart's <release>-approver ClusterRole); the",
      "operator's webhook records who decided and refuses the session's own pod identity."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:decided",
      "1:refused (RBAC, the webhook) or already decided",
      "3:no such held request for that session",
      "4:the API server could not be used",
      "64:wrong command line"
    })
public final class ApproveCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(index = "0", paramLabel = "SESSION", description = "The AgentSession.")
  String session;

  @Parameters(
      index = "1",
      paramLabel = "REQUEST-ID",
      description = "The held request's id (kubectl capgate approvals SESSION lists them).")
  String requestId;

  @Option(names = "--message", description = "Why, recorded on the approval.")
  String message;

  @Override
  public Integer call() {
    return Decision.decide(spec, kube, session, requestId, ApprovalDecision.APPROVED, message);
  }
}
