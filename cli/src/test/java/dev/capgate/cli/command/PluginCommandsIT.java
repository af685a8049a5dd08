package dev.capgate.cli.command;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.session;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.cli.audit.AuditTable;
import dev.capgate.cli.command.CommandLineTest.Run;
import dev.capgate.cli.kube.AgentSessions;
import dev.capgate.cli.kube.SessionPods;
import dev.capgate.cli.status.Recovery;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The verbs that talk to the cluster, run as {@code kubectl capgate} runs them (the same {@code
 * Main}, flags and kubeconfig file) against a real etcd + kube-apiserver with the generated CRD.
 * There is no operator here: where a verb waits for the operator (revoke's finalizer, recover's
 * status), the test does what the operator's contract says it does, to check the plugin's waiting;
 * each place says so. The operator's side of the contract is tested in the operator module.
 */
class PluginCommandsIT {
  static final Path CRD = Path.of("../crds/agentsessions.capgate.dev-v1.yml");
  static final String FINALIZER = "capgate.dev/revocation";
  static final ResourceDefinitionContext SESSIONS = AgentSessions.CONTEXT;

  static KubeControlPlane cp;
  static KubernetesClient client;

  @BeforeAll
  static void installCrd() {
    cp = KubeControlPlane.shared();
    client = cp.client();
    cp.applyCrd(CRD);
  }

  static Run capgate(String namespace, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--kubeconfig", cp.kubeconfig().toString(), "-n", namespace));
    return CommandLineTest.run(all.toArray(String[]::new));
  }

  static void createSession(String namespace, String name, String... finalizers) {
    AgentSession s =
        session(name)
            .namespace(namespace)
            .user("alice@example.com")
            .agent("coding-agent")
            .egress(
                rule("github-api")
                    .hosts("api.github.com")
                    .methods(HttpMethod.GET)
                    .paths("/repos/acme/repo-a", "/repos/acme/repo-a/**"))
            .build();
    s.getMetadata().setFinalizers(List.of(finalizers));
    client.resource(s).create();
  }

  /**
   * A pod as the webhook leaves it: the session label and the proxy as a native sidecar; on {@code
   * node} if not null (as the scheduler would have put it there).
   */
  static void createInjectedPod(String namespace, String name, String session, String node) {
    client
        .pods()
        .inNamespace(namespace)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(Map.of(SessionPods.SESSION_LABEL, session))
                .endMetadata()
                .withNewSpec()
                .withNodeName(node)
                .addNewInitContainer()
                .withName(SidecarContract.PROXY_CONTAINER)
                .withImage("capgate-sidecar")
                .withRestartPolicy("Always")
                .endInitContainer()
                .addNewContainer()
                .withName("agent")
                .withImage("agent")
                .endContainer()
                .endSpec()
                .build())
        .create();
  }

  static GenericKubernetesResource get(String namespace, String name) {
    return client.genericKubernetesResources(SESSIONS).inNamespace(namespace).withName(name).get();
  }

  /** A status write, as the operator makes it (merge patch on the status subresource). */
  static void writeStatus(String namespace, String name, String statusJson) {
    client
        .genericKubernetesResources(SESSIONS)
        .inNamespace(namespace)
        .withName(name)
        .subresource("status")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":" + statusJson + "}");
  }

  static void removeFinalizers(String namespace, String name) {
    client
        .genericKubernetesResources(SESSIONS)
        .inNamespace(namespace)
        .withName(name)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":null}}");
  }

  @Test
  void statusListsSessionsAndShowsOneWithItsPods() {
    String ns = cp.newNamespace("cli-status");
    createSession(ns, "fix-issue-42");
    createSession(ns, "other");
    // What the operator would have written (no operator here).
    writeStatus(
        ns,
        "fix-issue-42",
        """
        {"phase":"Active","expiresAt":"2099-01-01T00:00:00Z","pods":1,
         "conditions":[{"type":"Ready","status":"True","reason":"Valid","message":"policy enforced",
                        "lastTransitionTime":"2026-12-07T02:00:00Z"}],
         "activity":{"requests":12,"denials":2,"lastActivity":"2026-12-07T02:55:00Z"}}
        """);
    createInjectedPod(ns, "agent-a", "fix-issue-42", null);

    Run list = capgate(ns, "status");
    assertThat(list.exit()).as(list.err()).isZero();
    assertThat(list.out().lines().toList())
        .hasSize(3)
        .anySatisfy(
            r ->
                assertThat(r)
                    .contains(
                        "fix-issue-42",
                        "Active",
                        "True",
                        "alice@example.com",
                        "coding-agent",
                        "2099-01-01T00:00:00Z",
                        "12 req, 2 denied"))
        .anySatisfy(r -> assertThat(r).startsWith("other"));

    Run one = capgate(ns, "status", "fix-issue-42");
    assertThat(one.exit()).as(one.err()).isZero();
    assertThat(one.out())
        .contains(
            "Name:           " + ns + "/fix-issue-42",
            "Ready=True Valid: policy enforced",
            "  denials: 2")
        .containsPattern("agent-a +Pending +0/1")
        .contains(
            "Recent denials (the sidecars' audit lines):\n  (none in the logs of the running sidecars)");

    // No kubelet here: the pod never starts, so its sidecar has no log yet. audit says so and
    // carries on (the e2e suite reads real logs: PluginE2E).
    Run audit = capgate(ns, "audit", "fix-issue-42");
    assertThat(audit.exit()).as(audit.err()).isZero();
    assertThat(audit.out()).contains("No audit lines yet from 1 pod(s) of session fix-issue-42");
    assertThat(audit.err()).contains("warning: no log from pod agent-a");
    Run noPods = capgate(ns, "audit", "other");
    assertThat(noPods.exit()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(noPods.err()).contains("no injected pod of session other");
    Run explain = capgate(ns, "explain", "7gk2m9qa-1c");
    assertThat(explain.exit()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(explain.err())
        .contains("no audit line with requestId 7gk2m9qa-1c in the logs of 1 session pod(s)");

    Run missing = capgate(ns, "status", "nope");
    assertThat(missing.exit()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(missing.err()).contains("no AgentSession nope in namespace " + ns);
    assertThat(capgate(cp.newNamespace("cli-empty"), "status").out())
        .startsWith("No AgentSessions in namespace");
  }

  /**
   * {@code audit --follow} on the real API server's pod-log stream ({@code follow=true}), proxied
   * to the pod's node, whose container log the test writes ({@link KubeletLogs}: there is no
   * kubelet here). A line written after the plugin showed the previous one appears while it keeps
   * following; Ctrl-C stops it at once, quietly, and the API server closes the stream it was
   * reading; a log that ends (the sidecar stopped) ends it by itself, exit 0.
   */
  @Test
  void auditFollowShowsLinesAsTheSidecarWritesThemAndStops() throws Exception {
    String ns = cp.newNamespace("cli-follow");
    List<String> log = Files.readAllLines(Path.of("src/test/resources/audit/agent-a.log"));
    String logLine = log.get(0); // the sidecar's JSON log line (stderr, same container log)
    String allowed = log.get(1); // requestId 7gk2m9qa-1b, allow
    String denied = log.get(3); // requestId 7gk2m9qa-1c, deny
    Duration patience = Duration.ofSeconds(60);
    try (KubeletLogs kubelet = KubeletLogs.start(cp.pki())) {
      createInjectedPod(ns, "agent-a", "fix-issue-42", kubelet.registerNode(client, ns + "-node"));

      try (PluginProcess follow =
          PluginProcess.start(cp.kubeconfig(), ns, "audit", "fix-issue-42", "--follow")) {
        KubeletLogs.Stream stream = kubelet.awaitStream(patience);
        assertThat(stream.request())
            .startsWith("/containerLogs/" + ns + "/agent-a/" + SidecarContract.PROXY_CONTAINER)
            .contains("follow=true");
        assertThat(follow.awaitLine(l -> l.startsWith("TIME"), patience))
            .isEqualTo(String.join("  ", AuditTable.HEADER));
        stream.write(logLine);
        stream.write(allowed);
        assertThat(follow.awaitLine(l -> l.contains("7gk2m9qa-1b"), patience))
            .contains("agent-a", "allow", "GET api.github.com/repos/acme/repo-a");
        assertThat(follow.isAlive()).isTrue();
        stream.write(denied);
        assertThat(follow.awaitLine(l -> l.contains("7gk2m9qa-1c"), patience))
            .contains("deny", "DELETE api.github.com/repos/acme/repo-a");
        assertThat(follow.isAlive()).as("still following").isTrue();

        follow.interrupt();
        // The same patience as for the lines (a loaded machine); when idle it exits in ~0.1 s.
        long interrupted = System.nanoTime();
        assertThat(follow.awaitExit(patience)).as("128 + SIGINT").isEqualTo(130);
        System.out.printf(
            "[audit --follow] exited %d ms after SIGINT%n",
            Duration.ofNanos(System.nanoTime() - interrupted).toMillis());
        assertThat(follow.stderr()).as("no warning, no stack trace").isEmpty();
        assertThat(follow.linesSoFar())
            .as("the table's header and the two audit lines, nothing else")
            .filteredOn(l -> !l.isBlank())
            .hasSize(3);
        assertThat(stream.awaitReaderGone(Duration.ofSeconds(30)))
            .as("the API server closed the stream it was following for the plugin")
            .isTrue();
      }

      try (PluginProcess follow =
          PluginProcess.start(cp.kubeconfig(), ns, "audit", "fix-issue-42", "-f", "-o", "json")) {
        KubeletLogs.Stream stream = kubelet.awaitStream(patience);
        stream.write(allowed);
        assertThat(follow.awaitLine(l -> l.contains("7gk2m9qa-1b"), patience)).isEqualTo(allowed);
        stream.end();
        assertThat(follow.awaitExit(Duration.ofSeconds(30))).isZero();
        assertThat(follow.stderr()).isEmpty();
      }
    }
  }

  /**
   * suggest reads the session's proxy logs as audit does (pods/log through the real API server, the
   * node's log endpoint written by the test) and turns the would-deny lines into rules. The log is
   * real: the lines LearnModeIT's sidecar wrote (src/test/resources/audit/learn.log, a JSON log
   * line of its stderr first), which an allowed request, two would-deny requests, a would-deny TLS
   * splice and a placeholder refusal.
   */
  @Test
  void suggestTurnsALearnSessionsWouldDenyLinesIntoRules() throws Exception {
    String ns = cp.newNamespace("cli-suggest");
    List<String> log = Files.readAllLines(Path.of("src/test/resources/audit/learn.log"));
    Duration patience = Duration.ofSeconds(60);
    try (KubeletLogs kubelet = KubeletLogs.start(cp.pki())) {
      createInjectedPod(ns, "agent-a", "learn", kubelet.registerNode(client, ns + "-node"));
      // As the kubelet reports it: the proxy runs (suggest, like audit, reads only a started one).
      client
          .pods()
          .inNamespace(ns)
          .withName("agent-a")
          .subresource("status")
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              """
              {"status":{"initContainerStatuses":[{"name":"%s","image":"capgate-sidecar",
               "imageID":"","ready":true,"restartCount":0,"started":true,
               "state":{"running":{"startedAt":"2026-12-07T08:57:00Z"}}}]}}
              """
                  .formatted(SidecarContract.PROXY_CONTAINER));
      CompletableFuture<Run> suggest =
          CompletableFuture.supplyAsync(() -> capgate(ns, "suggest", "learn"));
      KubeletLogs.Stream stream = kubelet.awaitStream(patience);
      assertThat(stream.request())
          .startsWith("/containerLogs/" + ns + "/agent-a/" + SidecarContract.PROXY_CONTAINER)
          .doesNotContain("follow=true");
      log.forEach(stream::write);
      stream.end();
      Run run = suggest.get(patience.toSeconds(), TimeUnit.SECONDS);
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(run.err()).isEmpty();
      assertThat(run.out())
          .startsWith(
              "# kubectl capgate suggest learn -n " + ns + ": 5 audit line(s) from 1 pod(s)")
          .contains("# 3 would-deny line(s) read; 3 rule(s) suggested.")
          .contains(
              """
                  - name: api-github-test
                    hosts: ["api.github.test"]
                    methods: ["DELETE"]
                    paths: ["/repos/acme/repo-a/branches/*"]
                    # seen 1 request(s), e.g. DELETE /repos/acme/repo-a/branches/12345
              """,
              """
                  - name: plain-test
                    hosts: ["plain.test"]
                    methods: ["GET"]
                    paths: ["/orgs/acme/members/*"]
              """,
              """
                  - name: pypi-test
              """)
          .doesNotContainPattern("(?m)^\\s+credentials?:");
      // The fragment applies: appended to a learn session's rules, the API server takes it.
      String head = "spec:\n  egress:\n";
      String fragment = run.out().substring(run.out().indexOf(head) + head.length());
      String session =
          """
          apiVersion: capgate.dev/v1alpha1
          kind: AgentSession
          metadata: {name: learned}
          spec:
            user: alice@example.com
            agent: coding-agent
            egress:
          """
              + fragment;
      ProcessResult applied = cp.kubectlWithInput(session, "create", "-n", ns, "-f", "-");
      assertThat(applied.exitCode()).as(applied.stderr() + "\n" + session).isZero();
    }
  }

  /** lint says what the API server says: the example is accepted, the broken file refused. */
  @Test
  void lintAgreesWithTheApiServer() {
    String ns = cp.newNamespace("cli-lint");
    Path good = Path.of("../crds/examples/fix-issue-42.yaml");
    Path bad = Path.of("src/test/resources/sessions/bad.yaml");
    ProcessResult serverGood =
        cp.kubectl("apply", "--dry-run=server", "-n", ns, "-f", good.toString());
    assertThat(serverGood.success()).as(serverGood.stderr()).isTrue();
    assertThat(capgate(ns, "lint", good.toString()).exit()).isZero();

    // Strict field validation stops at the unknown field; without it the server drops the field
    // silently and refuses the agent name. lint reports both at once.
    ProcessResult strict =
        cp.kubectl(
            "apply", "--dry-run=server", "--validate=strict", "-n", ns, "-f", bad.toString());
    assertThat(strict.success()).isFalse();
    assertThat(strict.stderr()).contains("unknown field \"spec.egress[1].hots\"");
    ProcessResult lax =
        cp.kubectl("apply", "--dry-run=server", "--validate=false", "-n", ns, "-f", bad.toString());
    assertThat(lax.success()).isFalse();
    assertThat(lax.stderr()).contains("spec.agent");
    Run lint = capgate(ns, "lint", bad.toString());
    assertThat(lint.exit()).isEqualTo(ExitCodes.FAILED);
    assertThat(lint.out())
        .contains("spec.egress[1].hots: unknown field", "spec.agent: must be a DNS label");

    // The live object, read back from the API server, is checked the same way.
    createSession(ns, "live");
    Run live = capgate(ns, "lint", "agentsession/live");
    assertThat(live.exit()).as(live.out() + live.err()).isZero();
    assertThat(live.out()).contains("AgentSession live: valid (1 egress rule(s), 0 credential(s))");
    assertThat(capgate(ns, "lint", "agentsession/nope").exit()).isEqualTo(ExitCodes.NOT_FOUND);
  }

  /** test runs the sidecar's policy on the session as the cluster holds it. */
  @Test
  void testRunsTheLiveSessionThroughThePolicy() {
    String ns = cp.newNamespace("cli-test");
    createSession(ns, "live");
    Run allowed =
        capgate(
            ns,
            "test",
            "agentsession/live",
            "-r",
            "GET https://api.github.com/repos/acme/repo-a/issues");
    assertThat(allowed.exit()).as(allowed.out() + allowed.err()).isZero();
    assertThat(allowed.out()).contains("decision    allow", "rule        github-api");
    Run denied =
        capgate(
            ns, "test", "ags/live", "-r", "POST https://api.github.com/repos/acme/repo-a/issues");
    assertThat(denied.exit()).isEqualTo(ExitCodes.FAILED);
    assertThat(denied.out())
        .contains(
            "decision    deny",
            "no egress rule for api.github.com allows POST /repos/acme/repo-a/issues");
  }

  /**
   * The installed shape: kubectl finds {@code kubectl-capgate} on PATH (the launcher as checked in,
   * which runs the jar this module's package phase built) and the plugin reads KUBECONFIG.
   */
  @Test
  void kubectlRunsThePluginFromPath() throws Exception {
    String ns = cp.newNamespace("cli-kubectl");
    createSession(ns, "via-kubectl");
    ProcessBuilder pb =
        new ProcessBuilder(
                dev.capgate.testkit.Tools.bin("kubectl").toString(), "capgate", "status", "-n", ns)
            .redirectErrorStream(true);
    pb.environment().put("KUBECONFIG", cp.kubeconfig().toString());
    pb.environment()
        .put(
            "PATH",
            Path.of("").toAbsolutePath() + java.io.File.pathSeparator + System.getenv("PATH"));
    Process p = pb.start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("NAME", "via-kubectl", "alice@example.com").doesNotContain("SLF4J");
  }

  @Test
  void revokeDeletesAndWaitsForTheObjectToGo() throws Exception {
    String ns = cp.newNamespace("cli-revoke");
    createSession(ns, "plain");
    Run plain = capgate(ns, "revoke", "plain");
    assertThat(plain.exit()).as(plain.err()).isZero();
    assertThat(plain.out()).contains("deleted", "revoked: " + ns + "/plain is gone");
    assertThat(get(ns, "plain")).isNull();

    // With the operator's finalizer the object stays until the operator has revoked the Vault
    // tokens and leases; here the test removes the finalizer, as the operator does then.
    createSession(ns, "held", FINALIZER);
    CompletableFuture<Run> revoke =
        CompletableFuture.supplyAsync(() -> capgate(ns, "revoke", "held", "--timeout", "60s"));
    await("deletion requested")
        .atMost(Duration.ofSeconds(30))
        .until(() -> get(ns, "held").getMetadata().getDeletionTimestamp() != null);
    Thread.sleep(1500);
    assertThat(revoke).isNotDone(); // still waiting for the operator
    removeFinalizers(ns, "held");
    Run held = revoke.get(30, TimeUnit.SECONDS);
    assertThat(held.exit()).as(held.err()).isZero();
    assertThat(held.out()).contains("revoked: " + ns + "/held is gone");

    // Nobody removes it: a clear timeout.
    createSession(ns, "stuck", FINALIZER);
    Run stuck = capgate(ns, "revoke", "stuck", "--timeout", "2s");
    assertThat(stuck.exit()).isEqualTo(ExitCodes.TIMEOUT);
    assertThat(stuck.err()).contains("still exists after 2s", FINALIZER, "is it running?");
    removeFinalizers(ns, "stuck");

    assertThat(capgate(ns, "revoke", "nope").exit()).isEqualTo(ExitCodes.NOT_FOUND);
  }

  @Test
  void recoverAnnotatesAndWaitsForTheOperatorsStatus() throws Exception {
    String ns = cp.newNamespace("cli-recover");
    createSession(ns, "s1");
    Instant before = Instant.now().minusSeconds(1);
    CompletableFuture<Run> recover =
        CompletableFuture.supplyAsync(() -> capgate(ns, "recover", "s1", "--timeout", "60s"));
    String stamp = awaitAnnotation(ns, "s1");
    // RFC 3339 UTC, now.
    assertThat(stamp).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z");
    assertThat(Instant.parse(stamp))
        .isAfterOrEqualTo(before.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    Thread.sleep(1500);
    assertThat(recover).isNotDone();
    // What the operator writes once it has revoked and restarted (the contract; no operator here).
    writeStatus(
        ns,
        "s1",
        recovered(
            stamp, "RecoveryCompleted", "revoked 2 Vault tokens and 1 lease; restarted 1 pod"));
    Run done = recover.get(30, TimeUnit.SECONDS);
    assertThat(done.exit()).as(done.err()).isZero();
    assertThat(done.out())
        .contains("recovery requested for " + ns + "/s1 (capgate.dev/recover=" + stamp + ")")
        .contains("recovered " + ns + "/s1: revoked 2 Vault tokens and 1 lease; restarted 1 pod");

    // An operator without recovery (or none): a clear timeout, the annotation left in place.
    Run timeout = capgate(ns, "recover", "s1", "--timeout", "2s");
    if (timeout.exit() == ExitCodes.OK) {
      // Same second as the recovery above: that recovery answers this request. Ask again.
      Thread.sleep(1100);
      timeout = capgate(ns, "recover", "s1", "--timeout", "2s");
    }
    assertThat(timeout.exit()).isEqualTo(ExitCodes.TIMEOUT);
    assertThat(timeout.err())
        .contains("did not confirm the recovery within 2s", "The annotation stays");

    assertThat(capgate(ns, "recover", "nope").exit()).isEqualTo(ExitCodes.NOT_FOUND);
  }

  @Test
  void recoverAllAndAFailure() throws Exception {
    String ns = cp.newNamespace("cli-recover-all");
    createSession(ns, "a");
    createSession(ns, "b");
    CompletableFuture<Run> recover =
        CompletableFuture.supplyAsync(() -> capgate(ns, "recover", "--all", "--timeout", "60s"));
    String stampA = awaitAnnotation(ns, "a");
    String stampB = awaitAnnotation(ns, "b");
    assertThat(stampB).isEqualTo(stampA);
    writeStatus(ns, "a", recovered(stampA, "RecoveryCompleted", "done"));
    Thread.sleep(1000);
    assertThat(recover).isNotDone(); // b is still pending
    writeStatus(
        ns,
        "b",
        """
        {"conditions":[{"type":"Recovered","status":"False","reason":"RecoveryFailed",
          "message":"Vault unreachable","lastTransitionTime":"%s"}]}
        """
            .formatted(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
    Run r = recover.get(30, TimeUnit.SECONDS);
    assertThat(r.exit()).isEqualTo(ExitCodes.FAILED);
    assertThat(r.out())
        .contains(
            "recovered " + ns + "/a: done", "recovery FAILED for " + ns + "/b: Vault unreachable");
  }

  static String recovered(String stamp, String reason, String message) {
    return Serialization.asJson(
        Map.of(
            "lastRecovery",
            stamp,
            "conditions",
            List.of(
                Map.of(
                    "type", Recovery.CONDITION,
                    "status", "True",
                    "reason", reason,
                    "message", message,
                    "lastTransitionTime", stamp))));
  }

  static String awaitAnnotation(String ns, String name) {
    await("annotation " + Recovery.ANNOTATION + " on " + name)
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                get(ns, name).getMetadata().getAnnotations() != null
                    && get(ns, name)
                        .getMetadata()
                        .getAnnotations()
                        .containsKey(Recovery.ANNOTATION));
    return get(ns, name).getMetadata().getAnnotations().get(Recovery.ANNOTATION);
  }
}
