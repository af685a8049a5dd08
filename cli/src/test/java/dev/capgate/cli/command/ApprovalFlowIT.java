package dev.capgate.cli.command;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.sidecar.SidecarRole;
import dev.capgate.api.v1alpha1.AgentApproval;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Approval;
import dev.capgate.api.v1alpha1.ApprovalDecision;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.sidecar.approval.Approvals;
import dev.capgate.sidecar.approval.Approvals.HeldRequest;
import dev.capgate.sidecar.approval.Approvals.Outcome;
import dev.capgate.sidecar.approval.KubeApprovals;
import dev.capgate.sidecar.kube.ApiClient;
import dev.capgate.sidecar.kube.ApiServer;
import dev.capgate.testkit.KubeControlPlane;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A held request end to end on a real API server, minus the network: the sidecar's approval code
 * ({@link KubeApprovals}, with a service-account token holding exactly what the operator's sidecar
 * Role grants) puts it before a person, and the person decides with this plugin's own {@code
 * approve} / {@code reject} code path (in-process {@code Main.run}, an admin kubeconfig). Timeouts
 * and a restarted sidecar end in Expired. Who decided is stamped by the operator's webhook, which
 * is not running here (operator ApprovalWebhookIT proves it).
 */
class ApprovalFlowIT {
  static final KubeControlPlane kube = KubeControlPlane.shared();
  static final String SESSION = "held";
  static final String POD = "agent-0";
  static final AtomicInteger IDS = new AtomicInteger();
  static KubernetesClient admin;
  static String namespace;
  static Vertx vertx;
  static ApiClient api;

  @BeforeAll
  static void setUp() throws IOException {
    admin = kube.client();
    kube.applyCrd(Path.of("../crds/agentsessions.capgate.dev-v1.yml"));
    kube.applyCrd(Path.of("../crds/agentapprovals.capgate.dev-v1.yml"));
    namespace = kube.newNamespace("approval-flow");
    AgentSessionBuilder session =
        AgentSessionBuilder.session(SESSION)
            .namespace(namespace)
            .user("alice@example.com")
            .agent("coding-agent")
            .egress(
                rule("issues")
                    .hosts("api.github.com")
                    .methods(HttpMethod.POST)
                    .paths("/repos/acme/repo-a/issues")
                    .approval(new Approval(true, "1m", List.of("team-leads"))));
    admin.resource(session.build()).create();
    // The sidecar's identity with what SidecarRoleDependentResource grants, nothing more.
    kube.newServiceAccount(namespace, "agent");
    kube.grant(
        namespace,
        "sidecar",
        SidecarRole.rules(SESSION, true),
        KubeControlPlane.serviceAccount(namespace, "agent"));
    Path token = Files.createTempFile("approval-token-", "");
    token.toFile().deleteOnExit();
    Files.writeString(token, kube.serviceAccountToken(namespace, "agent", Duration.ofHours(1)));
    vertx = Vertx.vertx();
    api =
        new ApiClient(
            vertx,
            new ApiServer(URI.create(kube.url()), kube.caCertPem(), token),
            Duration.ofSeconds(3),
            Duration.ofSeconds(10));
  }

  @AfterAll
  static void tearDown() {
    api.close();
    vertx.close();
  }

  static KubeApprovals sidecar(int maxHeld) {
    return new KubeApprovals(
        api, namespace, SESSION, POD, Duration.ofMillis(200), maxHeld, Clock.systemUTC());
  }

  static HeldRequest held(Duration timeout) {
    return new HeldRequest(
        "req-" + IDS.incrementAndGet(),
        "issues",
        "POST",
        "api.github.com",
        "/repos/acme/repo-a/issues",
        timeout,
        List.of("team-leads"));
  }

  static AgentApproval approval(String id) {
    return admin.resources(AgentApproval.class).inNamespace(namespace).withName(id).get();
  }

  static AgentApproval awaitPending(String id) {
    return await().atMost(Duration.ofSeconds(20)).until(() -> approval(id), a -> a != null);
  }

  record Run(int exit, String out, String err) {}

  static Run plugin(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--kubeconfig";
    all[args.length + 1] = kube.kubeconfig().toString();
    all[args.length + 2] = "-n";
    all[args.length + 3] = namespace;
    int exit =
        dev.capgate.cli.Main.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  static Outcome outcome(CompletableFuture<Outcome> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  @Test
  void anApprovedRequestGoesOnAndTheObjectDescribesItWithoutSecrets() throws Exception {
    HeldRequest request = held(Duration.ofMinutes(1));
    CompletableFuture<Outcome> decided = sidecar(4).ask(request).toCompletableFuture();
    AgentApproval pending = awaitPending(request.requestId());
    assertThat(pending.getSpec().session()).isEqualTo(SESSION);
    assertThat(pending.getSpec().path()).isEqualTo("/repos/acme/repo-a/issues");
    assertThat(pending.getSpec().approvers()).containsExactly("team-leads");
    assertThat(pending.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getKind()).isEqualTo("AgentSession"));
    assertThat(decided).isNotDone();

    Run list = plugin("approvals", SESSION);
    assertThat(list.exit()).as(list.err()).isZero();
    assertThat(list.out()).contains(request.requestId(), "Pending", "/repos/acme/repo-a/issues");

    Run approve = plugin("approve", SESSION, request.requestId(), "--message", "looks right");
    assertThat(approve.exit()).as(approve.err()).isZero();
    assertThat(approve.out()).startsWith("approved: POST api.github.com/repos/acme/repo-a/issues");

    assertThat(outcome(decided)).isInstanceOf(Outcome.Approved.class);
    assertThat(approval(request.requestId()).getStatus().decision())
        .isEqualTo(ApprovalDecision.APPROVED);

    Run again = plugin("reject", SESSION, request.requestId());
    assertThat(again.exit()).isEqualTo(ExitCodes.FAILED);
    assertThat(again.err()).contains("already decided: Approved");
  }

  @Test
  void aRejectedRequestIsRejected() throws Exception {
    HeldRequest request = held(Duration.ofMinutes(1));
    CompletableFuture<Outcome> decided = sidecar(4).ask(request).toCompletableFuture();
    awaitPending(request.requestId());
    Run wrongSession = plugin("reject", "other-session", request.requestId());
    assertThat(wrongSession.exit()).isEqualTo(ExitCodes.NOT_FOUND);
    Run reject = plugin("reject", SESSION, request.requestId());
    assertThat(reject.exit()).as(reject.err()).isZero();
    assertThat(outcome(decided)).isInstanceOf(Outcome.Rejected.class);
  }

  @Test
  void nobodyDecidingEndsInExpired() throws Exception {
    HeldRequest request = held(Duration.ofSeconds(2));
    long start = System.nanoTime();
    Outcome outcome = outcome(sidecar(4).ask(request).toCompletableFuture());
    assertThat(outcome).isInstanceOf(Outcome.TimedOut.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isBetween(Duration.ofSeconds(2), Duration.ofSeconds(10));
    assertThat(approval(request.requestId()).getStatus().decision())
        .isEqualTo(ApprovalDecision.EXPIRED);
    Run late = plugin("approve", SESSION, request.requestId());
    assertThat(late.exit()).isEqualTo(ExitCodes.FAILED);
  }

  @Test
  void aRestartedSidecarExpiresWhatItsPredecessorLeftPending() throws Exception {
    HeldRequest request = held(Duration.ofMinutes(1));
    CompletableFuture<Outcome> first = sidecar(4).ask(request).toCompletableFuture();
    awaitPending(request.requestId());
    // The new process of the same pod: its predecessor's connections are gone.
    assertThat(sidecar(4).expireStale()).isGreaterThanOrEqualTo(1);
    assertThat(approval(request.requestId()).getStatus().decision())
        .isEqualTo(ApprovalDecision.EXPIRED);
    assertThat(outcome(first)).isInstanceOf(Outcome.TimedOut.class);
  }

  @Test
  void holdsPerPodAreCapped() throws Exception {
    KubeApprovals one = sidecar(1);
    HeldRequest first = held(Duration.ofSeconds(3));
    CompletableFuture<Outcome> holding = one.ask(first).toCompletableFuture();
    Outcome second = outcome(one.ask(held(Duration.ofSeconds(3))).toCompletableFuture());
    assertThat(second).isInstanceOf(Outcome.Unavailable.class);
    assertThat(((Outcome.Unavailable) second).why()).contains("already waiting");
    assertThat(outcome(holding)).isInstanceOf(Outcome.TimedOut.class);
  }

  @Test
  void withoutApiAccessNothingIsHeld() throws Exception {
    Outcome none =
        outcome(
            Approvals.unavailable("no API access")
                .ask(held(Duration.ofSeconds(1)))
                .toCompletableFuture());
    assertThat(none).isInstanceOf(Outcome.Unavailable.class);
  }
}
