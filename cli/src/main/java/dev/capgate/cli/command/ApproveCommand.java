package dev.capgate.cli.command;

import dev.capgate.api.v1alpha1.ApprovalDecision;
import picocli.CommandLine.Command;

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
public final class ApproveCommand extends DecisionCommand {
  @Override
  ApprovalDecision decision() {
    return ApprovalDecision.APPROVED;
  }
}
