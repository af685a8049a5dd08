package dev.capgate.e2e;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Approval;
import dev.capgate.testkit.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 16 §3 on the real cluster: a rule with {@code approval: {required: true, timeout: 20s}}.
 * curl in the agent pod is held; a person bound to the chart's approver ClusterRole (a service
 * account of its own, with a token of its own in a kubeconfig of its own: a real identity, not an
 * impersonation) decides with {@code kubectl capgate approve|reject}: approved → the upstream is
 * reached once (200); rejected → 403; nobody → 403 after the timeout. Meanwhile the agent cannot
 * decide for itself: its container has no API token, and its pod's service account (the sidecar's
 * identity, which may create approvals) is refused when it writes a decision.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApprovalE2E {
  static final String URL = "https://api.github.test/repos/acme/repo-a";
  static final String CURL = "curl -sS -w '\\nHTTP %{http_code}' " + URL;
  static final String APPROVER = "approver";
  static final ObjectMapper JSON = new ObjectMapper();
  static final Evidence EVIDENCE = new Evidence("approval.txt");
  static final Set<String> SEEN = new HashSet<>();
  static AgentSandbox agent;
  static Path approverKubeconfig;

  static AgentSessionBuilder session(String name) {
    return Sessions.alice(name)
        .credential(Sessions.github())
        .egress(
            Sessions.githubApi("held", "github")
                .methods(GET)
                .paths("/repos/acme/repo-a")
                .approval(new Approval(true, "20s", List.of("team-leads"))));
  }

  @BeforeAll
  static void start() throws IOException {
    agent = AgentSandbox.start("approval", session("held"));
    approverKubeconfig = approver();
    // The approver can list what waits (nothing yet); this also warms the plugin's JVM start,
    // which a held request's 20 s must not pay for.
    ProcessResult none =
        PluginE2E.capgateIn(
            agent.namespace(), approverKubeconfig.toString(), "approvals", agent.session());
    assertThat(none.exitCode()).as(none.stderr()).isZero();
  }

  @AfterAll
  static void stop() throws IOException {
    if (approverKubeconfig != null) {
      Files.deleteIfExists(approverKubeconfig);
    }
    if (agent != null) {
      agent.close();
    }
  }

  @Test
  @Order(1)
  void approvedTheUpstreamIsReachedOnce() {
    CompletableFuture<ProcessResult> held = hold();
    String id = awaitPending();
    ProcessResult approve = decide("approve", id);
    assertThat(approve.exitCode()).as(approve.stderr()).isZero();
    assertThat(approve.stdout()).contains("by " + approverName());

    ProcessResult r = held.join();
    EVIDENCE.command("approved", CURL, r);
    assertThat(r.stdout()).contains("HTTP 200").contains("\"full_name\":\"acme/repo-a\"");
    List<JsonObject> lines =
        SidecarAudit.await(agent, "for " + id, 1, l -> id.equals(l.getString("requestId")));
    lines.forEach(l -> EVIDENCE.note("approved", "audit: " + SidecarAudit.brief(l)));
    assertThat(lines).hasSize(1);
    assertThat(lines.getFirst().getString("decision")).isEqualTo("allow");
    assertThat(lines.getFirst().getString("reason"))
        .contains("approval " + id + " approved by " + approverName());
    long reachedUpstream =
        SidecarAudit.lines(agent).stream().filter(l -> l.containsKey("upstreamStatus")).count();
    assertThat(reachedUpstream).as("requests that reached the upstream").isEqualTo(1);
  }

  @Test
  @Order(2)
  void rejectedIs403() {
    CompletableFuture<ProcessResult> held = hold();
    String id = awaitPending();
    ProcessResult reject = decide("reject", id, "--message", "not now");
    assertThat(reject.exitCode()).as(reject.stderr()).isZero();
    ProcessResult r = held.join();
    EVIDENCE.command("rejected", CURL, r);
    assertThat(r.stdout()).contains("HTTP 403").contains("approval-rejected");
    JsonObject line =
        SidecarAudit.await(agent, "for " + id, 1, l -> id.equals(l.getString("requestId")))
            .getFirst();
    EVIDENCE.note("rejected", "audit: " + SidecarAudit.brief(line));
    assertThat(line.getString("decision")).isEqualTo("deny");
    assertThat(line.getString("reason")).startsWith("approval-rejected:").contains(approverName());
    assertThat(line.containsKey("upstreamStatus")).isFalse();
  }

  /**
   * While a request is held and nobody decides: the agent's own attempts to decide fail, then the
   * timeout denies it.
   */
  @Test
  @Order(3)
  void theAgentCannotApproveItselfAndNobodyMeansTimeout() throws IOException {
    long t0 = System.nanoTime();
    CompletableFuture<ProcessResult> held = hold();
    String id = awaitPending();

    ProcessResult token =
        agent.sh(
            "ls /var/run/secrets/kubernetes.io/serviceaccount/ 2>&1;"
                + " test -e /var/run/secrets/kubernetes.io/serviceaccount/token && echo TOKEN || echo NO-TOKEN");
    EVIDENCE.command("agent container", "ls the service-account token", token);
    assertThat(token.stdout()).contains("NO-TOKEN");

    String podAccount =
        "system:serviceaccount:" + agent.namespace() + ":" + Stack.get().agentServiceAccount();
    ProcessResult self =
        agent
            .kubectl()
            .run(
                "--as=" + podAccount,
                "-n",
                agent.namespace(),
                "patch",
                "agentapproval",
                id,
                "--subresource=status",
                "--type=merge",
                "-p",
                "{\"status\":{\"decision\":\"Approved\"}}");
    EVIDENCE.command(
        "pod identity",
        "kubectl --as=" + podAccount + " patch agentapproval " + id + " (Approved)",
        self);
    assertThat(self.exitCode()).as("the pod's identity approving").isNotZero();
    assertThat(self.stderr()).containsAnyOf("denied", "forbidden", "Forbidden", "refuse");
    // kubectl patch reads the object first, which the sidecar's Role may not: the same identity's
    // merge patch alone (what its Role allows) reaches the approval webhook, which refuses it.
    String refusal = patchAsThePod(id);
    EVIDENCE.note(
        "pod identity",
        "PATCH agentapprovals/" + id + "/status (Approved) as " + podAccount + " → " + refusal);
    assertThat(refusal).startsWith("HTTP 4").doesNotContain("is forbidden: User");

    ProcessResult approvals =
        PluginE2E.capgateIn(
            agent.namespace(), approverKubeconfig.toString(), "approvals", agent.session());
    EVIDENCE.command(
        "approvals",
        "kubectl capgate approvals " + agent.session() + "  (as " + approverName() + ")",
        approvals);
    assertThat(approvals.stdout()).contains(id);

    ProcessResult r = held.join();
    long seconds = Duration.ofNanos(System.nanoTime() - t0).toSeconds();
    EVIDENCE.command("timed out", CURL + "   (after " + seconds + " s)", r);
    assertThat(r.stdout()).contains("HTTP 403").contains("approval-timed-out");
    assertThat(seconds).isBetween(19L, 60L);
    assertThat(approval(id).path("status").path("decision").asText()).isEqualTo("Expired");
    JsonObject line =
        SidecarAudit.await(agent, "for " + id, 1, l -> id.equals(l.getString("requestId")))
            .getFirst();
    EVIDENCE.note("timed out", "audit: " + SidecarAudit.brief(line));
    assertThat(line.getString("decision")).isEqualTo("deny");
    assertThat(line.getString("reason")).startsWith("approval-timed-out");
  }

  // --- helpers --------------------------------------------------------------------------------

  /** The curl, started in the pod; it waits for the decision. */
  private static CompletableFuture<ProcessResult> hold() {
    return CompletableFuture.supplyAsync(() -> agent.sh(CURL));
  }

  /** The request id of the approval the sidecar just created, once it is there and pending. */
  private static String awaitPending() {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      ProcessResult list =
          agent.kubectl().run("-n", agent.namespace(), "get", "agentapprovals", "-o", "json");
      try {
        for (JsonNode item : JSON.readTree(list.stdout()).path("items")) {
          String id = item.path("spec").path("requestId").asText();
          if (!id.isEmpty()
              && item.path("status").path("decision").isMissingNode()
              && SEEN.add(id)) {
            return id;
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      AgentSandbox.sleep(300);
    }
    throw new AssertionError("no pending AgentApproval in " + agent.namespace());
  }

  /**
   * A JSON merge patch of the approval's status to Approved with a token of the pod's service
   * account bound to the agent pod (what the sidecar holds), sent by curl on the host (kubectl
   * patch reads the object first, which that identity may not): the API server's answer.
   */
  private static String patchAsThePod(String id) throws IOException {
    Path kubeconfig =
        kubeconfig(
            Stack.get().agentServiceAccount(),
            "--bound-object-kind=Pod",
            "--bound-object-name=" + AgentSandbox.POD);
    Path ca = Files.createTempFile("capgate-ca", ".crt");
    Path header =
        Files.createTempFile(
            "capgate-auth",
            ".header",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      JsonNode config = JSON.readTree(kubeconfig.toFile());
      JsonNode cluster = config.path("clusters").get(0).path("cluster");
      Files.write(
          ca,
          java.util.Base64.getDecoder()
              .decode(cluster.path("certificate-authority-data").asText()));
      Files.writeString(
          header,
          "Authorization: Bearer "
              + config.path("users").get(0).path("user").path("token").asText()
              + "\n");
      String url =
          cluster.path("server").asText()
              + "/apis/capgate.dev/v1alpha1/namespaces/"
              + agent.namespace()
              + "/agentapprovals/"
              + id
              + "/status";
      Process p =
          new ProcessBuilder(
                  "curl",
                  "-sS",
                  "--max-time",
                  "20",
                  "--cacert",
                  ca.toString(),
                  "-H",
                  "@" + header,
                  "-H",
                  "content-type: application/merge-patch+json",
                  "-X",
                  "PATCH",
                  "-d",
                  "{\"status\":{\"decision\":\"Approved\"}}",
                  "-w",
                  "\nHTTP %{http_code}",
                  url)
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      int at = out.lastIndexOf("\nHTTP ");
      String status = at < 0 ? "HTTP ?" : out.substring(at + 1).strip();
      String message = at < 0 ? out : out.substring(0, at);
      try {
        message = JSON.readTree(message).path("message").asText(message);
      } catch (IOException notJson) {
        // curl's own error: shown as is
      }
      return status + ": " + message;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      Files.deleteIfExists(kubeconfig);
      Files.deleteIfExists(ca);
      Files.deleteIfExists(header);
    }
  }

  private static JsonNode approval(String id) {
    ProcessResult one =
        agent.kubectl().run("-n", agent.namespace(), "get", "agentapproval", id, "-o", "json");
    try {
      return JSON.readTree(one.orThrow().stdout());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ProcessResult decide(String verb, String id, String... more) {
    List<String> args = new java.util.ArrayList<>(List.of(verb, agent.session(), id));
    args.addAll(List.of(more));
    ProcessResult r =
        PluginE2E.capgateIn(
            agent.namespace(), approverKubeconfig.toString(), args.toArray(String[]::new));
    EVIDENCE.command(
        verb, "kubectl capgate " + String.join(" ", args) + "  (as " + approverName() + ")", r);
    return r;
  }

  private static String approverName() {
    return "system:serviceaccount:" + agent.namespace() + ":" + APPROVER;
  }

  /**
   * A person who may decide: a service account of the sandbox's namespace bound there to the
   * chart's approver ClusterRole, and a kubeconfig (the stack's cluster, that account's short-lived
   * token) in a private temporary file. The token is read with {@link Kubectl#bytes}, which keeps
   * it out of the transcript.
   */
  private static Path approver() throws IOException {
    Kubectl kubectl = agent.kubectl();
    String clusterRole =
        kubectl
            .run("get", "clusterroles", "-o", "name")
            .orThrow()
            .stdout()
            .lines()
            .map(l -> l.substring(l.indexOf('/') + 1))
            .filter(n -> n.startsWith("capgate") && n.endsWith("-approver"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("the chart's approver ClusterRole"));
    kubectl.run("-n", agent.namespace(), "create", "serviceaccount", APPROVER).orThrow();
    kubectl
        .run(
            "-n",
            agent.namespace(),
            "create",
            "rolebinding",
            APPROVER,
            "--clusterrole=" + clusterRole,
            "--serviceaccount=" + agent.namespace() + ":" + APPROVER)
        .orThrow();
    Path file = kubeconfig(APPROVER);
    EVIDENCE.note(
        "approver",
        approverName()
            + " bound to ClusterRole "
            + clusterRole
            + " (RoleBinding in "
            + agent.namespace()
            + ")");
    return file;
  }

  /**
   * A kubeconfig (the stack's cluster, a short-lived token of {@code serviceAccount} in the
   * sandbox's namespace) in a private temporary file. The token is read with {@link Kubectl#bytes},
   * which keeps it out of the transcript.
   */
  private static Path kubeconfig(String serviceAccount, String... tokenOptions) throws IOException {
    Kubectl kubectl = agent.kubectl();
    List<String> tokenArgs =
        new java.util.ArrayList<>(
            List.of("-n", agent.namespace(), "create", "token", serviceAccount, "--duration=15m"));
    tokenArgs.addAll(List.of(tokenOptions));
    String token =
        new String(
                kubectl.bytes(Duration.ofSeconds(60), tokenArgs.toArray(String[]::new)),
                StandardCharsets.UTF_8)
            .strip();
    assertThat(token).as("a token for " + serviceAccount).isNotEmpty();
    // The stack's cluster entry only (server and CA): the admin's credentials stay behind.
    JsonNode admin =
        JSON.readTree(
            kubectl.bytes(
                Duration.ofSeconds(60),
                "config",
                "view",
                "--raw",
                "--minify",
                "--flatten",
                "-o",
                "json"));
    ObjectNode config = JSON.createObjectNode();
    config.put("apiVersion", "v1").put("kind", "Config").put("current-context", serviceAccount);
    config.putArray("clusters").add(admin.path("clusters").get(0).deepCopy());
    String clusterName = admin.path("clusters").get(0).path("name").asText();
    config
        .putArray("users")
        .addObject()
        .put("name", serviceAccount)
        .putObject("user")
        .put("token", token);
    config
        .putArray("contexts")
        .addObject()
        .put("name", serviceAccount)
        .putObject("context")
        .put("cluster", clusterName)
        .put("user", serviceAccount)
        .put("namespace", agent.namespace());
    Path file =
        Files.createTempFile(
            "capgate-" + serviceAccount,
            ".kubeconfig",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(file, JSON.writeValueAsBytes(config));
    return file;
  }
}
