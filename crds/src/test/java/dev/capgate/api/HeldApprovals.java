package dev.capgate.api;

import dev.capgate.api.v1alpha1.AgentApproval;
import dev.capgate.api.v1alpha1.AgentApprovalSpec;

/**
 * A held request as a sidecar asks a person about it: the one AgentApproval the approval ITs create
 * (AgentApprovalApiIT here, the operator's ApprovalWebhookIT through this module's test jar).
 */
public final class HeldApprovals {
  private HeldApprovals() {}

  /**
   * A pending approval for POST api.github.com/repos/acme/repo-a/issues in session fix-issue-42,
   * the request id being its name; {@code requestedBy} as the creator wrote it (null: left to the
   * webhook).
   */
  public static AgentApproval pending(String namespace, String name, String requestedBy) {
    return new AgentApproval(
        namespace,
        name,
        new AgentApprovalSpec(
            "fix-issue-42",
            "issues",
            "POST",
            "api.github.com",
            "/repos/acme/repo-a/issues",
            name,
            "agent-0",
            "2026-12-07T09:00:00Z",
            "2026-12-07T09:05:00Z",
            null,
            requestedBy));
  }
}
