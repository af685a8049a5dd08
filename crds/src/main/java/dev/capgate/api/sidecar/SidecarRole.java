package dev.capgate.api.sidecar;

import dev.capgate.api.v1alpha1.AgentSession;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * What a session's sidecars may do with the API server, and nothing more: read their one
 * AgentSession, write its lease ledger, and, only when a rule holds requests for a person, record
 * approvals and give up on them. The operator grants exactly these rules; the tests that play a
 * sidecar grant the same, so RBAC in a test is the production RBAC.
 */
public final class SidecarRole {
  private SidecarRole() {}

  public static List<PolicyRule> rules(String session, boolean approvals) {
    List<PolicyRule> rules = new ArrayList<>();
    rules.add(
        new PolicyRuleBuilder()
            .withApiGroups(AgentSession.GROUP)
            .withResources("agentsessions")
            .withResourceNames(session)
            .withVerbs("get", "list", "watch")
            .build());
    // Create cannot be limited to a name, so the operator creates the ledger itself.
    rules.add(
        new PolicyRuleBuilder()
            .withApiGroups("")
            .withResources("configmaps")
            .withResourceNames(LeaseLedger.configMapName(session))
            .withVerbs("get", "update", "patch")
            .build());
    if (approvals) {
      // The sidecar records each held request (create; names are request ids, so not limitable)
      // and waits for its decision (get, watch). It may write status only to give up (Expired):
      // the approval webhook refuses Approved and Rejected from the identity that created it.
      rules.add(
          new PolicyRuleBuilder()
              .withApiGroups(AgentSession.GROUP)
              .withResources("agentapprovals")
              .withVerbs("create", "get", "list", "watch")
              .build());
      rules.add(
          new PolicyRuleBuilder()
              .withApiGroups(AgentSession.GROUP)
              .withResources("agentapprovals/status")
              .withVerbs("patch")
              .build());
    }
    return rules;
  }
}
