package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.ProcessResult;
import dev.capgate.testkit.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chart's lifecycle on the real cluster (issue 14, "Lifecycle"; charts/capgate/README.md,
 * "Upgrade" and "Uninstall"), with the stack's own release, which it leaves as it found it:
 *
 * <ol>
 *   <li><b>uninstall</b> with a live session and its injected pod: the pre-delete hook deletes the
 *       session while the operator runs and waits for its revocation; afterwards no AgentSession
 *       exists, the pod's sidecar denies, and of Capgate only the CRD (Helm's rule) and the
 *       trust-roots ConfigMap the still-running pod mounts are left;
 *   <li>the <b>previous chart</b> ({@code e2e/lifecycle/previous-chart.properties}, images built
 *       now) installed with the stack's values and its own CRD; Vault given the new operator's
 *       session key (as the stack's {@code up} does); a session and an agent pod under it;
 *   <li><b>upgrade</b>: {@code kubectl apply --server-side} of the current CRD, {@code helm
 *       upgrade} to the current chart with the same values, the operator's rollout (what a new
 *       image brings; the stack's {@code up} does the same for a rebuilt image) — while the pod
 *       makes a request every 200 ms, every one of which must succeed; then the stored session
 *       passes the new schema, and a new pod for it is admitted and works.
 * </ol>
 *
 * Two installations cannot share a cluster-wide webhook scope, so this uses the stack's release
 * rather than a second one; the {@code @AfterAll} reinstalls the current chart with the saved
 * values if a step failed on the way.
 */
class LifecycleE2E {
  private static final Path WORK = Path.of("target", "lifecycle");
  private static final Evidence EVIDENCE = new Evidence("lifecycle.log");
  private static final String CRD = "agentsessions.capgate.dev";

  static Stack stack;
  static Kubectl kubectl;
  static String release;
  static String namespace;
  static Path values;
  static boolean restored = true;
  static final List<AgentSandbox> sandboxes = new ArrayList<>();

  @BeforeAll
  static void saveTheStacksRelease() throws IOException {
    stack = Stack.get();
    kubectl = new Kubectl(stack);
    release = stack.valueOr("CAPGATE_E2E_RELEASE", "capgate");
    namespace = stack.systemNamespace();
    Files.createDirectories(WORK);
    // The values the stack installed the release with (user-supplied only: the chart's defaults
    // stay the chart's); every install and upgrade below uses exactly these.
    values = WORK.resolve("stack-values.yaml");
    Files.writeString(
        values, helm("get", "values", release, "-n", namespace, "-o", "yaml").orThrow().stdout());
    assertThat(helm("status", release, "-n", namespace).stdout()).contains("STATUS: deployed");
  }

  @AfterAll
  static void leaveTheStackAsFound() {
    try {
      if (!restored) {
        Transcript.note("lifecycle: a step failed; reinstalling the current chart for the suite");
        installCurrent("upgrade", "--install");
      }
    } finally {
      for (AgentSandbox box : sandboxes) {
        box.close();
      }
    }
  }

  @Test
  void uninstallLeavesNoSessionBehindAndUpgradeFromThePreviousChartKeepsPodsWorking()
      throws Exception {
    long t0 = System.nanoTime();
    // --- 1. uninstall with a live session and pod ------------------------------------------
    AgentSandbox before = sandbox("life-a", "lifecycle-a");
    assertThat(get(before, AgentSandbox.POD)).contains("HTTP 200");
    String trustRoots =
        kubectl
            .run(
                "-n",
                before.namespace(),
                "get",
                "configmap",
                "-l",
                "capgate.dev/component=trust-roots",
                "-o",
                "jsonpath={.items[*].metadata.name}")
            .stdout()
            .strip();

    restored = false;
    long u0 = System.nanoTime();
    ProcessResult uninstall = helm("uninstall", release, "-n", namespace, "--timeout", "5m");
    long uninstallMs = (System.nanoTime() - u0) / 1_000_000;
    EVIDENCE.command("uninstall", "helm uninstall " + release, uninstall);
    assertThat(uninstall.exitCode()).as("helm uninstall: %s", uninstall.stderr()).isZero();
    ProcessResult sessions = kubectl.run("get", "agentsessions", "-A", "-o", "name");
    EVIDENCE.command("uninstall", "kubectl get agentsessions -A", sessions);
    assertThat(sessions.stdout()).as("no AgentSession left, none behind its finalizer").isBlank();
    ProcessResult revoked =
        kubectl.run(
            "-n",
            before.namespace(),
            "get",
            "events",
            "--field-selector",
            "reason=Revoked",
            "-o",
            "jsonpath={range .items[*]}{.involvedObject.name}: {.message}{\"\\n\"}{end}");
    EVIDENCE.command("uninstall", "the operator's Revoked event", revoked);
    assertThat(revoked.stdout()).contains("lifecycle-a: revoked:");
    assertThat(get(before, AgentSandbox.POD))
        .as("the pod of the revoked session is denied")
        .doesNotContain("HTTP 200");

    // The session's own objects (sidecar Role/RoleBinding, lease ledger, token record) go by
    // owner reference, i.e. by the garbage collector, moments after the finalizer is removed.
    List<String> expected =
        List.of(
            "customresourcedefinition.apiextensions.k8s.io/" + CRD,
            before.namespace() + " configmap/" + trustRoots);
    List<String> left = capgateObjectsLeft(before.namespace());
    for (int i = 0; i < 30 && !sameElements(left, expected); i++) {
      AgentSandbox.sleep(1000);
      left = capgateObjectsLeft(before.namespace());
    }
    EVIDENCE.note(
        "uninstall",
        "helm uninstall took "
            + uninstallMs
            + " ms (pre-delete drain, delete, post-delete clean-up); Capgate objects left: "
            + left);
    assertThat(left)
        .as("left: the CRD (Helm's rule) and the trust roots the still-running pod mounts")
        .containsExactlyInAnyOrderElementsOf(expected);

    // --- 2. the previous chart with a session and a pod ------------------------------------
    Path previous = previousChart();
    kubectl
        .run(
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            previous.resolve("crds").toString())
        .orThrow();
    ProcessResult install =
        helm(
            "install",
            release,
            previous.toString(),
            "-n",
            namespace,
            "-f",
            values.toString(),
            "--wait",
            "--timeout",
            "180s");
    EVIDENCE.command("previous", "helm install " + release + " <previous chart>", install);
    assertThat(install.exitCode()).as("previous chart installed: %s", install.stderr()).isZero();
    operatorReady();
    AgentSandbox live = sandbox("life-b", "lifecycle-b");
    assertThat(get(live, AgentSandbox.POD)).contains("HTTP 200");

    // --- 3. CRD, then helm upgrade, then the operator's rollout, under load -----------------
    CompletableFuture<ProcessResult> load =
        CompletableFuture.supplyAsync(
            () ->
                kubectl.run(
                    null,
                    Duration.ofSeconds(240),
                    "-n",
                    live.namespace(),
                    "exec",
                    AgentSandbox.POD,
                    "-c",
                    "agent",
                    "--",
                    "sh",
                    "-c",
                    "while [ ! -e /tmp/stop ]; do curl -sS -m 5 -o /dev/null -w '%{http_code}\\n'"
                        + " https://api.github.test/repos/acme/repo-a 2>&1 | tail -1; sleep 0.2;"
                        + " done"));
    AgentSandbox.sleep(2000);
    long g0 = System.nanoTime();
    ProcessResult crds =
        kubectl.run(
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            chart().resolve("crds").toString());
    EVIDENCE.command("upgrade", "kubectl apply --server-side -f charts/capgate/crds/", crds);
    assertThat(crds.exitCode()).isZero();
    installCurrent("upgrade");
    long upgradeMs = (System.nanoTime() - g0) / 1_000_000;
    restored = true;
    AgentSandbox.sleep(3000); // requests after the new operator took over
    live.sh("touch /tmp/stop");
    List<String> codes = load.get(60, TimeUnit.SECONDS).stdout().lines().toList();
    long ok = codes.stream().filter("200"::equals).count();
    EVIDENCE.note(
        "upgrade",
        "CRD apply + helm upgrade + operator rollout: "
            + upgradeMs
            + " ms; the live pod's requests meanwhile: "
            + ok
            + "/"
            + codes.size()
            + " HTTP 200"
            + (ok == codes.size()
                ? ""
                : ", others: " + codes.stream().filter(c -> !"200".equals(c)).distinct().toList()));
    assertThat(codes).as("requests during the upgrade").hasSizeGreaterThan(10).containsOnly("200");

    ProcessResult phase =
        kubectl.run(
            "-n",
            live.namespace(),
            "get",
            "agentsession",
            live.session(),
            "-o",
            "jsonpath={.status.phase}");
    assertThat(phase.stdout()).isEqualTo("Active");
    // The stored session through the new schema and its CEL rules: a server-side dry-run update.
    ProcessResult valid =
        kubectl.run(
            "-n",
            live.namespace(),
            "label",
            "agentsession",
            live.session(),
            "capgate.dev/upgrade-check=1",
            "--dry-run=server");
    EVIDENCE.command("upgrade", "stored session validated by the new CRD (dry-run update)", valid);
    assertThat(valid.exitCode()).isZero();
    live.addPod("agent-after-upgrade");
    assertThat(get(live, AgentSandbox.POD)).contains("HTTP 200");
    assertThat(get(live, "agent-after-upgrade")).contains("HTTP 200");
    EVIDENCE.note(
        "lifecycle",
        "the stored session admitted a new pod through the upgraded webhook, both pods allowed;"
            + " whole test "
            + (System.nanoTime() - t0) / 1_000_000
            + " ms");
  }

  /** GET through the sidecar from pod {@code pod}: the body's status line. */
  private static String get(AgentSandbox box, String pod) {
    return kubectl
        .sh(
            box.namespace(),
            pod,
            "curl -sS -m 10 -o /dev/null -w 'HTTP %{http_code}' https://api.github.test/repos/acme/repo-a 2>&1")
        .stdout();
  }

  private static AgentSandbox sandbox(String label, String session) {
    AgentSandbox box = AgentSandbox.start(label, Sessions.article(session));
    sandboxes.add(box);
    return box;
  }

  /**
   * {@code helm <verb> <release> charts/capgate} with the stack's values, the operator restarted as
   * a new image would, Ready with its caBundle, and Vault trusting its session key.
   */
  private static void installCurrent(String... verb) {
    List<String> args = new ArrayList<>(Arrays.asList(verb));
    args.addAll(
        List.of(
            release,
            chart().toString(),
            "-n",
            namespace,
            "-f",
            values.toString(),
            "--wait",
            "--timeout",
            "180s"));
    kubectl
        .run(
            "apply", "--server-side", "--force-conflicts", "-f", chart().resolve("crds").toString())
        .orThrow();
    ProcessResult upgrade = helm(args.toArray(String[]::new));
    EVIDENCE.command(
        "upgrade", "helm " + String.join(" ", verb) + " " + release + " charts/capgate", upgrade);
    assertThat(upgrade.exitCode()).as("helm upgrade: %s", upgrade.stderr()).isZero();
    kubectl
        .run(
            "-n",
            namespace,
            "rollout",
            "restart",
            "deploy",
            "-l",
            "app.kubernetes.io/instance=" + release)
        .orThrow();
    kubectl
        .run(
            null,
            Duration.ofSeconds(200),
            "-n",
            namespace,
            "rollout",
            "status",
            "deploy",
            "-l",
            "app.kubernetes.io/instance=" + release,
            "--timeout=180s")
        .orThrow();
    // The rollout is done when the old replica has gone too: until then the Service may still send
    // an admission to the old one as it shuts down (seen here: EOF from the webhook for a pod
    // created a second after `rollout status` returned, on a loaded node).
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    String terminating = "?";
    while (System.nanoTime() < deadline && !terminating.isBlank()) {
      terminating =
          kubectl
              .run(
                  "-n",
                  namespace,
                  "get",
                  "pods",
                  "-l",
                  "app.kubernetes.io/instance=" + release + ",app.kubernetes.io/component=operator",
                  "-o",
                  "jsonpath={.items[?(@.metadata.deletionTimestamp)].metadata.name}")
              .stdout()
              .strip();
      if (!terminating.isBlank()) {
        AgentSandbox.sleep(500);
      }
    }
    assertThat(terminating).as("the old operator pod is gone").isBlank();
    operatorReady();
  }

  /** The webhook has its caBundle and Vault trusts the (maybe new) session-signing key. */
  private static void operatorReady() {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    String caBundle = "";
    String pem = "";
    while (System.nanoTime() < deadline && (caBundle.isBlank() || pem.isBlank())) {
      caBundle =
          kubectl
              .run(
                  "get",
                  "mutatingwebhookconfiguration",
                  "-l",
                  "app.kubernetes.io/instance=" + release,
                  "-o",
                  "jsonpath={.items[0].webhooks[0].clientConfig.caBundle}")
              .stdout();
      pem =
          kubectl
              .run(
                  "-n",
                  namespace,
                  "get",
                  "secret",
                  release + "-session-signer",
                  "-o",
                  "jsonpath={.data.public\\.pem}")
              .stdout();
      if (caBundle.isBlank() || pem.isBlank()) {
        AgentSandbox.sleep(500);
      }
    }
    assertThat(caBundle).as("the webhook's caBundle").isNotBlank();
    assertThat(pem).as("the operator's session key").isNotBlank();
    VaultJwtTrust.trust(
        stack,
        new String(java.util.Base64.getDecoder().decode(pem.strip()), StandardCharsets.US_ASCII));
  }

  /**
   * Everything of Capgate's still in the cluster: objects of the release (its labels), objects the
   * operator made ({@code managed-by: capgate}), the per-session objects in the agents' namespace,
   * the CRD.
   */
  private static List<String> capgateObjectsLeft(String agentNamespace) {
    List<String> left = new ArrayList<>();
    String namespaced =
        "deployments,replicasets,pods,jobs,services,serviceaccounts,secrets,configmaps,roles,"
            + "rolebindings,networkpolicies,poddisruptionbudgets";
    String cluster =
        "clusterroles,clusterrolebindings,mutatingwebhookconfigurations,"
            + "validatingadmissionpolicies,validatingadmissionpolicybindings";
    for (String selector :
        List.of(
            "app.kubernetes.io/instance=" + release,
            "app.kubernetes.io/managed-by=capgate",
            "capgate.dev/session")) {
      ProcessResult r =
          kubectl.run(
              "get",
              // The agent's pods carry the session label too: they are the user's, not Capgate's.
              selector.equals("capgate.dev/session") ? namespaced.replace("pods,", "") : namespaced,
              "-A",
              "-l",
              selector,
              "-o",
              "jsonpath={range .items[*]}{.metadata.namespace} {.kind}/{.metadata.name}{\"\\n\"}{end}");
      r.orThrow().stdout().lines().forEach(l -> left.add(lower(l)));
      ProcessResult c = kubectl.run("get", cluster, "-l", selector, "-o", "name");
      c.orThrow().stdout().lines().forEach(left::add);
    }
    // Roles the operator made for sidecars carry the session only in their name.
    kubectl
        .run("-n", agentNamespace, "get", "roles,rolebindings", "-o", "name")
        .orThrow()
        .stdout()
        .lines()
        .forEach(l -> left.add(agentNamespace + " " + l));
    String lease = release + "-operator-leader";
    if (kubectl.run("-n", namespace, "get", "lease", lease).exitCode() == 0) {
      left.add(namespace + " lease/" + lease);
    }
    ProcessResult crd = kubectl.run("get", "crd", CRD, "-o", "name");
    crd.stdout().lines().forEach(left::add);
    // Namespaces that earlier classes deleted (--wait=false) may still be terminating: what is in
    // them goes with them, whatever the uninstall did.
    List<String> terminating =
        kubectl
            .run(
                "get",
                "namespaces",
                "-o",
                "jsonpath={range .items[?(@.metadata.deletionTimestamp)]}{.metadata.name}{\"\\n\"}{end}")
            .stdout()
            .lines()
            .toList();
    return left.stream().distinct().filter(l -> !terminating.contains(l.split(" ", 2)[0])).toList();
  }

  private static boolean sameElements(List<String> a, List<String> b) {
    return new java.util.HashSet<>(a).equals(new java.util.HashSet<>(b)) && a.size() == b.size();
  }

  private static String lower(String line) {
    int slash = line.indexOf('/');
    int space = line.indexOf(' ');
    return slash < 0
        ? line
        : line.substring(0, space + 1)
            + line.substring(space + 1, slash).toLowerCase()
            + line.substring(slash);
  }

  /** The pinned earlier chart, extracted from git (e2e/lifecycle/previous-chart.properties). */
  private static Path previousChart() throws IOException {
    Properties pin = new Properties();
    try (var in = Files.newInputStream(Path.of("lifecycle", "previous-chart.properties"))) {
      pin.load(in);
    }
    String revision = pin.getProperty("revision");
    Path dir = WORK.resolve("previous").toAbsolutePath();
    if (Files.exists(dir)) {
      try (var walk = Files.walk(dir)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    Files.createDirectories(dir);
    Path tar = WORK.resolve("previous-chart.tar").toAbsolutePath();
    run(List.of("git", "-C", "..", "archive", "-o", tar.toString(), revision, "charts/capgate"));
    run(List.of("tar", "-x", "-f", tar.toString(), "-C", dir.toString()));
    EVIDENCE.note(
        "previous",
        "chart of " + revision + " (e2e/lifecycle/previous-chart.properties), images built now");
    return dir.resolve("charts/capgate");
  }

  private static Path chart() {
    return Path.of("..", "charts", "capgate").toAbsolutePath().normalize();
  }

  private static ProcessResult helm(String... args) {
    String helm = stack.valueOr("CAPGATE_E2E_HELM", "");
    if (helm.isBlank()) {
      Path built = Tools.home().resolve("bin").resolve("helm");
      helm = Files.isExecutable(built) ? built.toString() : "helm";
    }
    List<String> command = new ArrayList<>(List.of(helm, "--kubeconfig", stack.kubeconfig()));
    command.addAll(List.of(args));
    long t0 = System.nanoTime();
    ProcessResult result = run(command);
    Transcript.record(
        "helm " + String.join(" ", args), result, Duration.ofNanos(System.nanoTime() - t0));
    return result;
  }

  private static ProcessResult run(List<String> command) {
    try {
      Path out = Files.createTempFile("lifecycle", ".out");
      Path err = Files.createTempFile("lifecycle", ".err");
      Process p =
          new ProcessBuilder(command)
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      p.getOutputStream().close();
      if (!p.waitFor(6, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
      ProcessResult r =
          new ProcessResult(
              p.isAlive() ? -1 : p.exitValue(), Files.readString(out), Files.readString(err));
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      if (command.getFirst().equals("git") || command.getFirst().equals("tar")) {
        r.orThrow();
      }
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
