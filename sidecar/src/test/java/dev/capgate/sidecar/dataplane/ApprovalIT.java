package dev.capgate.sidecar.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.sidecar.SidecarRole;
import dev.capgate.api.v1alpha1.AgentApproval;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Approval;
import dev.capgate.api.v1alpha1.ApprovalDecision;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 §3 on the data plane: the real sidecar in a pod network namespace holds a request whose
 * rule requires approval, records it as an AgentApproval on a real API server (bridged into the
 * pod, the sidecar's own token with the sidecar Role's rights), and the agent's curl gets the
 * upstream's answer once it is approved (the upstream reached once), 403 approval-rejected when
 * rejected, 403 approval-timed-out when nobody decides. The decision is written here as an admin
 * (the plugin's code path is cli ApprovalFlowIT; who may decide is operator ApprovalWebhookIT).
 */
class ApprovalIT {
  static final KubeControlPlane kube = KubeControlPlane.shared();
  static final int API_BRIDGE_PORT = 16443;

  @AutoClose private static PodNetns pod;

  static KubernetesClient admin;
  static String namespace;
  static String ca;

  @BeforeAll
  static void start() throws IOException {
    admin = kube.client();
    kube.applyCrd(Path.of("../crds/agentsessions.capgate.dev-v1.yml"));
    kube.applyCrd(Path.of("../crds/agentapprovals.capgate.dev-v1.yml"));
    namespace = kube.newNamespace("approval-dp");
    AgentSessionBuilder session =
        AgentSessionBuilder.session("held")
            .namespace(namespace)
            .user("alice@example.com")
            .agent("coding-agent")
            .egress(
                AgentSessionBuilder.rule("slow")
                    .hosts("api.github.test")
                    .methods(HttpMethod.POST)
                    .paths("/repos/acme/slow/**")
                    .approval(new Approval(true, "2s", null)),
                AgentSessionBuilder.rule("issues")
                    .hosts("api.github.test")
                    .methods(HttpMethod.POST)
                    .paths("/repos/acme/repo-a/**")
                    .approval(new Approval(true, "30s", List.of("team-leads"))));
    admin.resource(session.build()).create();
    String token = sidecarToken();

    URI api = URI.create(kube.url());
    pod = PodNetns.create("ApprovalIT");
    assertThat(pod.runInit().requireSuccess().exitCode()).isZero();
    pod.bridgeToHost(API_BRIDGE_PORT, new InetSocketAddress(api.getHost(), api.getPort()));
    pod.startUpstreams(null);
    Path kubeDir = pod.dir().resolve("kube-api");
    Files.createDirectories(kubeDir);
    Files.writeString(kubeDir.resolve("token"), token);
    Files.writeString(kubeDir.resolve("ca.crt"), kube.caCertPem());
    for (Path p : List.of(kubeDir, kubeDir.resolve("token"), kubeDir.resolve("ca.crt"))) {
      p.toFile().setReadable(true, false);
      p.toFile().setExecutable(true, false);
    }
    pod.startSidecar(
        session.json(),
        null,
        List.of(
            "--kube-api-url",
            "https://198.18.0.2:" + API_BRIDGE_PORT,
            "--kube-api-dir",
            kubeDir.toString(),
            "--pod-name",
            "agent-0",
            "--approval-poll",
            "1s",
            // Shorter than the holds below: a held request is not an idle connection.
            "--idle-timeout",
            "3s"));
    ca = pod.podCaCert().toString();
    // kubectl knows the new kind only once its discovery has it.
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInSameThread()
        .until(() -> kube.kubectl("get", "agentapprovals", "-n", namespace).exitCode() == 0);
  }

  /** The sidecar's identity: what SidecarRoleDependentResource grants a session with approvals. */
  static String sidecarToken() {
    kube.newServiceAccount(namespace, "agent");
    kube.grant(
        namespace,
        "sidecar",
        SidecarRole.rules("held", true),
        KubeControlPlane.serviceAccount(namespace, "agent"));
    return kube.serviceAccountToken(namespace, "agent", Duration.ofHours(1));
  }

  /**
   * The agent's curl, on a thread of its own: on the common pool it would hold the only thread of a
   * 2-core machine, which the API client's JDK HttpClient needs to complete its calls.
   */
  static CompletableFuture<Command.Result> post(String path) {
    CompletableFuture<Command.Result> result = new CompletableFuture<>();
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try {
                result.complete(
                    AgentCurl.trusting(
                        pod,
                        ca,
                        // Past curl's usual 15 s: the request waits for a person here.
                        "-m",
                        "45",
                        "-X",
                        "POST",
                        "-d",
                        "title=hello",
                        "https://api.github.test" + path));
              } catch (RuntimeException | Error e) {
                result.completeExceptionally(e);
              }
            });
    return result;
  }

  /**
   * The name of the approval of the request to {@code path}, once the sidecar has recorded it.
   * Through kubectl, a process of its own: nothing in this JVM waits on the agent's curl.
   */
  static String pendingFor(String path) {
    return await()
        .atMost(Duration.ofSeconds(15))
        .pollInSameThread()
        .until(
            () ->
                kube.kubectl(
                        "get",
                        "agentapprovals",
                        "-n",
                        namespace,
                        "-o",
                        "jsonpath={.items[?(@.spec.path==\"" + path + "\")].metadata.name}")
                    .stdout()
                    .strip(),
            name -> !name.isEmpty());
  }

  static AgentApproval approval(String name) {
    ProcessResult get = kube.kubectl("get", "agentapproval", name, "-n", namespace, "-o", "json");
    assertThat(get.exitCode()).as(get.stderr()).isZero();
    return Serialization.unmarshal(get.stdout(), AgentApproval.class);
  }

  static void decide(String name, ApprovalDecision decision) {
    ProcessResult patch =
        kube.kubectl(
            "patch",
            "agentapproval",
            name,
            "-n",
            namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            "{\"status\":{\"decision\":\"" + decision.wire() + "\"}}");
    assertThat(patch.exitCode()).as(patch.stderr()).isZero();
  }

  static long upstreamSaw(String path) {
    return pod.log("upstream.log")
        .lines()
        .filter(l -> l.startsWith("{\"upstreamSaw\"") && l.contains("\"" + path + "\""))
        .count();
  }

  @Test
  void anApprovedRequestReachesTheUpstreamOnce() throws Exception {
    String path = "/repos/acme/repo-a/issues";
    CompletableFuture<Command.Result> curl = post(path);
    String name = pendingFor(path);
    AgentApproval pending = approval(name);
    assertThat(pending.getSpec().method()).isEqualTo("POST");
    assertThat(pending.getSpec().host()).isEqualTo("api.github.test");
    assertThat(pending.getSpec().pod()).isEqualTo("agent-0");
    Thread.sleep(4000); // past the sidecar's 3 s idle timeout: the hold keeps the connection
    assertThat(curl).as("held until decided").isNotDone();
    assertThat(upstreamSaw(path)).as("nothing went upstream while held").isZero();

    decide(name, ApprovalDecision.APPROVED);
    Command.Result r = curl.get(20, TimeUnit.SECONDS);
    assertThat(AgentCurl.status(r)).as(r.all()).isEqualTo(200);
    assertThat(upstreamSaw(path)).isEqualTo(1);
    // The audit line is written as the exchange ends, a moment after the answer went out.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> assertThat(pod.log("sidecar.log")).contains("approval " + name + " approved by"));
    assertThat(approvalsCounted("issues", "approved")).isPositive();
  }

  @Test
  void aRejectedRequestIsA403AndNeverGoesUpstream() throws Exception {
    String path = "/repos/acme/repo-a/labels";
    CompletableFuture<Command.Result> curl = post(path);
    decide(pendingFor(path), ApprovalDecision.REJECTED);
    Command.Result r = curl.get(20, TimeUnit.SECONDS);
    assertThat(AgentCurl.status(r)).as(r.all()).isEqualTo(403);
    assertThat(AgentCurl.body(r)).contains("approval-rejected");
    assertThat(upstreamSaw(path)).isZero();
  }

  @Test
  void nobodyDecidingIsA403AfterTheTimeout() throws Exception {
    String path = "/repos/acme/slow/issues";
    Command.Result r = post(path).get(20, TimeUnit.SECONDS);
    assertThat(AgentCurl.status(r)).as(r.all()).isEqualTo(403);
    assertThat(AgentCurl.body(r)).contains("approval-timed-out");
    assertThat(upstreamSaw(path)).isZero();
    assertThat(approval(pendingFor(path)).getStatus().decision())
        .isEqualTo(ApprovalDecision.EXPIRED);
    assertThat(approvalsCounted("slow", "timed-out")).isPositive();
  }

  /** {@code capgate_approvals_total{rule,outcome}} as the sidecar's /metrics serves it. */
  static double approvalsCounted(String rule, String outcome) {
    return pod.metricSeries("capgate_approvals_total").stream()
        .filter(
            l -> l.contains("rule=\"" + rule + "\"") && l.contains("outcome=\"" + outcome + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }
}
