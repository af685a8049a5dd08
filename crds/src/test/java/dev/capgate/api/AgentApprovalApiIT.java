package dev.capgate.api;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.session;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentApproval;
import dev.capgate.api.v1alpha1.AgentApprovalStatus;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Approval;
import dev.capgate.api.v1alpha1.ApprovalDecision;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The approval API on a real kube-apiserver: the rule's approval block and its CEL bounds, the
 * AgentApproval kind (printer columns, immutable spec, a decision made once, status subresource).
 * Who may decide is the operator's webhook (operator ApprovalWebhookIT), not tested here.
 */
class AgentApprovalApiIT {
  static final KubeControlPlane kube = KubeControlPlane.shared();
  static KubernetesClient client;
  static String namespace;

  @BeforeAll
  static void installCrds() {
    client = kube.client();
    kube.applyCrd(Path.of(CrdYamlInSyncTest.FILE));
    kube.applyCrd(Path.of(CrdYamlInSyncTest.APPROVAL_FILE));
    namespace = kube.newNamespace("approval");
  }

  static AgentSessionBuilder sessionWith(String name, Approval approval) {
    return session(name)
        .namespace(namespace)
        .user("alice@example.com")
        .agent("coding-agent")
        .egress(
            rule("issues")
                .hosts("api.github.com")
                .methods(HttpMethod.POST)
                .paths("/repos/acme/repo-a/issues")
                .approval(approval));
  }

  @Test
  void aRuleWithApprovalIsAcceptedAndExplained() {
    ProcessResult create =
        kube.kubectlWithInput(
            sessionWith("approved-rule", new Approval(true, "10m", List.of("team-leads"))).yaml(),
            "create",
            "-n",
            namespace,
            "-f",
            "-");
    assertThat(create.exitCode()).as(create.stderr()).isZero();

    ProcessResult explain = kube.kubectl("explain", "agentsession.spec.egress.approval.timeout");
    assertThat(explain.exitCode()).as(explain.stderr()).isZero();
    assertThat(explain.stdout()).contains("approval-timed-out", "Default 5m");
  }

  @Test
  void aTimeoutOverAnHourOrOnAPassthroughRuleIsRefused() {
    ProcessResult tooLong =
        kube.kubectlWithInput(
            sessionWith("too-long", new Approval(true, "2h", null)).yaml(),
            "create",
            "-n",
            namespace,
            "-f",
            "-");
    assertThat(tooLong.exitCode()).as(tooLong.stdout()).isNotZero();
    assertThat(tooLong.stderr()).contains("approval.timeout must be a duration between 1s and 1h");

    String passthrough =
        session("passthrough-approval")
            .namespace(namespace)
            .user("alice@example.com")
            .agent("coding-agent")
            .egress(
                rule("pkgs")
                    .hosts("pypi.org")
                    .passthrough()
                    .approval(new Approval(true, null, null)))
            .yaml();
    ProcessResult refused =
        kube.kubectlWithInput(passthrough, "create", "-n", namespace, "-f", "-");
    assertThat(refused.exitCode()).as(refused.stdout()).isNotZero();
    assertThat(refused.stderr()).contains("approval holds HTTP requests");
  }

  static AgentApproval pending(String name) {
    return HeldApprovals.pending(namespace, name, null);
  }

  @Test
  void anApprovalIsListedWithItsColumnsAndDecidedOnce() {
    client.resource(pending("7gk2m9qa-1")).create();

    ProcessResult get = kube.kubectl("get", "agentapprovals", "-n", namespace);
    assertThat(get.exitCode()).as(get.stderr()).isZero();
    assertThat(get.stdout().lines().findFirst().orElseThrow().split("\\s+"))
        .containsExactly(
            "NAME", "SESSION", "RULE", "METHOD", "HOST", "PATH", "STATE", "DECIDED-BY", "AGE");
    assertThat(get.stdout()).contains("7gk2m9qa-1", "fix-issue-42", "/repos/acme/repo-a/issues");

    // The spec is the request as held: it cannot be rewritten into another request.
    ProcessResult rewrite =
        kube.kubectl(
            "patch",
            "agentapproval",
            "7gk2m9qa-1",
            "-n",
            namespace,
            "--type=merge",
            "-p",
            "{\"spec\":{\"path\":\"/repos/acme/repo-b/issues\"}}");
    assertThat(rewrite.exitCode()).as(rewrite.stdout()).isNotZero();
    assertThat(rewrite.stderr()).contains("spec is immutable");

    ProcessResult approve = decide("7gk2m9qa-1", "Approved");
    assertThat(approve.exitCode()).as(approve.stderr()).isZero();
    AgentApprovalStatus status =
        client
            .resources(AgentApproval.class)
            .inNamespace(namespace)
            .withName("7gk2m9qa-1")
            .get()
            .getStatus();
    assertThat(status.decision()).isEqualTo(ApprovalDecision.APPROVED);

    ProcessResult flip = decide("7gk2m9qa-1", "Rejected");
    assertThat(flip.exitCode()).as(flip.stdout()).isNotZero();
    assertThat(flip.stderr()).contains("an approval is decided once");
  }

  @Test
  void aDecisionIsOneOfThreeWords() {
    client.resource(pending("7gk2m9qa-2")).create();
    ProcessResult maybe = decide("7gk2m9qa-2", "Maybe");
    assertThat(maybe.exitCode()).as(maybe.stdout()).isNotZero();
    assertThat(maybe.stderr()).contains("Unsupported value");
  }

  static ProcessResult decide(String name, String decision) {
    return kube.kubectl(
        "patch",
        "agentapproval",
        name,
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        "{\"status\":{\"decision\":\"" + decision + "\"}}");
  }
}
