package dev.capgate.operator.it;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.HeldApprovals;
import dev.capgate.api.v1alpha1.AgentApproval;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Approval;
import dev.capgate.api.v1alpha1.ApprovalDecision;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.operator.naming.SessionNames;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The approval webhook on a real API server calling the real operator, every write made as the API
 * server authenticates it (kubectl {@code --as}: real impersonation, so the webhook sees the
 * impersonated user in userInfo): the asker is stamped, cannot approve or reject what it asked, may
 * give up (Expired); a person's decision is stamped with their name whatever they wrote, and is
 * final. The session's sidecar Role grants approvals only when a rule asks for them.
 */
class ApprovalWebhookIT {
  static final OperatorUnderTest op = OperatorUnderTest.shared();
  static KubernetesClient admin;
  static String namespace;
  static String agentSa;
  static final String PERSON = "carol@example.com";

  @BeforeAll
  static void setUp() {
    admin = op.client;
    namespace = op.kube.newNamespace("approvals");
    op.createServiceAccount(namespace, "agent");
    agentSa = "system:serviceaccount:" + namespace + ":agent";
    // What the operator's sidecar Role grants (checked below), bound to the agent's service
    // account; and what the chart's approver ClusterRole grants, bound to a person.
    op.kube.grant(
        namespace,
        "sidecar-like",
        List.of(
            grantOn("agentapprovals", "create", "get", "list", "watch"),
            // get: kubectl patch --subresource reads the status first (the sidecar patches
            // directly); more than the sidecar holds, so the webhook, not RBAC, is what refuses.
            grantOn("agentapprovals/status", "get", "patch")),
        KubeControlPlane.serviceAccount(namespace, "agent"));
    op.kube.grant(
        namespace,
        "approver",
        List.of(
            grantOn("agentapprovals", "get", "list", "watch"),
            grantOn("agentapprovals/status", "get", "patch")),
        KubeControlPlane.user(PERSON));
  }

  static PolicyRule grantOn(String resource, String... verbs) {
    return new PolicyRuleBuilder()
        .withApiGroups(AgentSession.GROUP)
        .withResources(resource)
        .withVerbs(verbs)
        .build();
  }

  static String approvalYaml(String name) {
    // requestedBy: a lie the webhook must overwrite.
    return Serialization.asYaml(HeldApprovals.pending(namespace, name, "somebody-else"));
  }

  /** Creates the approval as the agent's service account, as a sidecar does. */
  static void askAsTheAgent(String name) {
    ProcessResult create =
        op.kube.kubectlWithInput(
            approvalYaml(name), "create", "--as=" + agentSa, "-n", namespace, "-f", "-");
    assertThat(create.exitCode()).as(create.stderr()).isZero();
  }

  static ProcessResult decide(String as, String name, String decision, String decidedBy) {
    return op.kube.kubectl(
        "patch",
        "agentapproval",
        name,
        "-n",
        namespace,
        "--as=" + as,
        "--subresource=status",
        "--type=merge",
        "-p",
        "{\"status\":{\"decision\":\""
            + decision
            + "\""
            + (decidedBy == null ? "" : ",\"decidedBy\":\"" + decidedBy + "\"")
            + "}}");
  }

  static AgentApproval get(String name) {
    return admin.resources(AgentApproval.class).inNamespace(namespace).withName(name).get();
  }

  @Test
  void theAskerIsStampedAndCannotDecide() {
    askAsTheAgent("req-1");
    assertThat(get("req-1").getSpec().requestedBy()).isEqualTo(agentSa);

    for (String decision : List.of("Approved", "Rejected")) {
      ProcessResult self = decide(agentSa, "req-1", decision, null);
      assertThat(self.exitCode()).as(decision + " by the agent: " + self.stdout()).isNotZero();
      assertThat(self.stderr()).contains("cannot decide it");
    }
    assertThat(get("req-1").getStatus()).isNull();

    // Giving up is the agent side's to do (a timeout, a restarted sidecar).
    ProcessResult expire = decide(agentSa, "req-1", "Expired", null);
    assertThat(expire.exitCode()).as(expire.stderr()).isZero();
    assertThat(get("req-1").getStatus().decision()).isEqualTo(ApprovalDecision.EXPIRED);
    assertThat(get("req-1").getStatus().decidedBy()).isEqualTo(agentSa);
  }

  @Test
  void aPersonsDecisionIsStampedWithTheirNameAndIsFinal() {
    askAsTheAgent("req-2");
    ProcessResult approve = decide(PERSON, "req-2", "Approved", "mallory@example.com");
    assertThat(approve.exitCode()).as(approve.stderr()).isZero();
    AgentApproval decided = get("req-2");
    assertThat(decided.getStatus().decision()).isEqualTo(ApprovalDecision.APPROVED);
    assertThat(decided.getStatus().decidedBy()).as("stamped, not as sent").isEqualTo(PERSON);
    assertThat(decided.getStatus().decidedAt()).isNotBlank();

    ProcessResult change = decide(PERSON, "req-2", "Rejected", null);
    assertThat(change.exitCode()).as(change.stdout()).isNotZero();
    assertThat(change.stderr()).contains("already decided");
  }

  @Test
  void theAgentCannotDecideWithoutTheStatusRightAndAPersonCannotCreate() {
    // RBAC, before any webhook: the approver may not create, an unbound identity may not decide.
    ProcessResult create =
        op.kube.kubectlWithInput(
            approvalYaml("req-3"), "create", "--as=" + PERSON, "-n", namespace, "-f", "-");
    assertThat(create.exitCode()).isNotZero();
    assertThat(create.stderr()).contains("forbidden");
    askAsTheAgent("req-3");
    ProcessResult stranger = decide("mallory@example.com", "req-3", "Approved", null);
    assertThat(stranger.exitCode()).isNotZero();
    assertThat(stranger.stderr()).contains("forbidden");
  }

  @Test
  void theSidecarRoleGrantsApprovalsOnlyWhenARuleAsksForThem() {
    AgentSessionBuilder plain = OperatorUnderTest.githubSession("no-approval").namespace(namespace);
    AgentSessionBuilder held =
        OperatorUnderTest.githubSession("with-approval")
            .namespace(namespace)
            .egress(
                rule("issues")
                    .hosts("api.github.com")
                    .methods(HttpMethod.POST)
                    .paths("/repos/acme/repo-a/issues")
                    .credential("github")
                    .approval(new Approval(true, "2m", null)));
    admin.resource(plain.build()).create();
    admin.resource(held.build()).create();
    Role withApproval = role("with-approval");
    assertThat(withApproval.getRules())
        .anySatisfy(
            r -> {
              assertThat(r.getResources()).containsExactly("agentapprovals/status");
              assertThat(r.getVerbs()).containsExactly("patch");
            });
    assertThat(role("no-approval").getRules())
        .noneSatisfy(r -> assertThat(r.getResources().getFirst()).startsWith("agentapprovals"));
  }

  static Role role(String session) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                admin
                    .rbac()
                    .roles()
                    .inNamespace(namespace)
                    .withName(SessionNames.sidecarRbac(session))
                    .get(),
            r -> r != null);
  }
}
