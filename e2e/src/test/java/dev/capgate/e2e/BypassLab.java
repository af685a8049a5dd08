package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.ProcessResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The attacker's workbench in one {@link AgentSandbox} namespace: pods from YAML (their admission
 * result kept, not thrown), waits, the escape probe run in any container, and the canary's record
 * per case. Pod specs name the session's service account and the test images of {@code
 * hack/images.sh}: {@code agent:dev} (USER 1000), {@code agent-root:dev} (no USER), {@code
 * agent-1447:dev} (USER 1447).
 */
final class BypassLab {
  static final String AGENT = "capgate.local/agent:dev";
  static final String AGENT_ROOT = "capgate.local/agent-root:dev";
  static final String AGENT_1447 = "capgate.local/agent-1447:dev";
  static final String SIDECAR = "capgate.local/sidecar:dev";
  static final String PROBE_CONFIGMAP = "escape-probe";

  final AgentSandbox sandbox;
  final Kubectl kubectl;
  final Stack stack;
  final Canary canary;
  final Evidence evidence;

  BypassLab(AgentSandbox sandbox, Canary canary, Evidence evidence) {
    this.sandbox = sandbox;
    this.kubectl = sandbox.kubectl();
    this.stack = Stack.get();
    this.canary = canary;
    this.evidence = evidence;
    // The probe as a file for containers nobody can exec into (init containers).
    kubectl
        .run(
            EscapeProbe.script(),
            Duration.ofSeconds(60),
            "-n",
            ns(),
            "create",
            "configmap",
            PROBE_CONFIGMAP,
            "--from-file=escape-probe.py=/dev/stdin")
        .orThrow();
  }

  String ns() {
    return sandbox.namespace();
  }

  /** Labels of a pod that opts in to injection for the sandbox's session. */
  String injectLabels() {
    return "{capgate.dev/inject: \"true\", capgate.dev/session: " + sandbox.session() + "}";
  }

  /** A pod with the sandbox's service account; {@code specRest} is the rest of spec, indented 2. */
  String pod(String name, String labels, String annotations, String specRest) {
    return """
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          namespace: %s
          labels: %s
          annotations: %s
        spec:
          serviceAccountName: %s
          terminationGracePeriodSeconds: 1
        %s"""
        .formatted(
            name,
            ns(),
            labels,
            annotations,
            stack.agentServiceAccount(),
            specRest.stripTrailing().indent(2));
  }

  /** kubectl create; the result as it is (a refusal is evidence, not an error). */
  ProcessResult create(String label, String yaml) {
    ProcessResult r =
        kubectl.run(
            yaml.getBytes(StandardCharsets.UTF_8),
            Duration.ofSeconds(60),
            "-n",
            ns(),
            "create",
            "-f",
            "-");
    evidence.command(
        label, "kubectl -n " + ns() + " create -f - <<EOF\n" + yaml.strip() + "\nEOF", r);
    return r;
  }

  ProcessResult run(String label, String... args) {
    ProcessResult r = kubectl.run(args);
    evidence.command(label, "kubectl " + String.join(" ", args), r);
    return r;
  }

  void awaitReady(String pod) {
    ProcessResult ready =
        kubectl.run(
            null,
            Duration.ofSeconds(200),
            "-n",
            ns(),
            "wait",
            "--for=condition=Ready",
            "pod/" + pod,
            "--timeout=180s");
    if (!ready.success()) {
      kubectl.run("-n", ns(), "describe", "pod", pod);
    }
    assertThat(ready.exitCode()).as("pod %s Ready: %s", pod, ready.stderr()).isZero();
  }

  /** Polls a jsonpath of a pod until it prints something containing {@code expected}. */
  String awaitJsonPath(String pod, String jsonPath, String expected, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String seen = "";
    while (System.nanoTime() < deadline) {
      seen = kubectl.run("-n", ns(), "get", "pod", pod, "-o", "jsonpath=" + jsonPath).stdout();
      if (seen.contains(expected)) {
        return seen;
      }
      AgentSandbox.sleep(500);
    }
    kubectl.run("-n", ns(), "describe", "pod", pod);
    throw new AssertionError(
        "pod "
            + pod
            + ": "
            + jsonPath
            + " = '"
            + seen
            + "', waited for '"
            + expected
            + "' for "
            + timeout);
  }

  /** Runs the escape probe in {@code container} of {@code pod}; returns its findings. */
  Map<String, String> probe(String label, String pod, String container) {
    List<String> args =
        new ArrayList<>(
            List.of("-n", ns(), "exec", "-i", pod, "-c", container, "--", "python3", "-"));
    args.addAll(EscapeProbe.args(stack, canary));
    int before = canary.hits().size();
    ProcessResult r =
        kubectl.run(EscapeProbe.script(), Duration.ofSeconds(60), args.toArray(String[]::new));
    evidence.command(label, "kubectl " + String.join(" ", args) + " < escape-probe.py", r);
    evidence.canary(label, canary.hits().subList(before, canary.hits().size()));
    return EscapeProbe.parse(r.stdout());
  }

  /** Container spec lines that run the probe from the ConfigMap (for init containers). */
  String probeCommand() {
    return "command: [python3, /probe/escape-probe.py, "
        + String.join(
            ", ", EscapeProbe.args(stack, canary).stream().map(a -> "\"" + a + "\"").toList())
        + "]";
  }

  List<String> hitsSince(int before) {
    List<String> hits = canary.hits();
    return hits.subList(before, hits.size());
  }

  String podIp(String pod) {
    return kubectl
        .run("-n", ns(), "get", "pod", pod, "-o", "jsonpath={.status.podIP}")
        .stdout()
        .strip();
  }

  /**
   * The operator's webhook as the cluster reaches it, {@code https://<cluster IP>:<port>}: the
   * webhook's Service (the MutatingWebhookConfiguration's clientConfig). Plus the webhook's path.
   */
  String[] operatorBaseAndWebhookPath() {
    String[] parts = webhookService();
    String ip =
        kubectl
            .run("-n", parts[0], "get", "svc", parts[1], "-o", "jsonpath={.spec.clusterIP}")
            .stdout()
            .strip();
    String path = parts[3].startsWith("/") ? parts[3] : "/" + parts[3];
    return new String[] {"https://" + ip + ":" + (parts[2].isBlank() ? "443" : parts[2]), path};
  }

  /**
   * Where sidecars ask for their Vault token, {@code https://<cluster IP>:<port>}: the same
   * Service's port named {@code identity} (the webhook's port does not serve {@code
   * /v1/vault-token}).
   */
  String operatorIdentityBase() {
    String[] parts = webhookService();
    String found =
        kubectl
            .run(
                "-n",
                parts[0],
                "get",
                "svc",
                parts[1],
                "-o",
                "jsonpath={.spec.clusterIP} {.spec.ports[?(@.name==\"identity\")].port}")
            .stdout()
            .strip();
    String[] ipAndPort = found.split(" ");
    if (ipAndPort.length != 2) {
      throw new IllegalStateException(
          "the Service " + parts[0] + "/" + parts[1] + " has no port named identity: " + found);
    }
    return "https://" + ipAndPort[0] + ":" + ipAndPort[1];
  }

  /**
   * namespace, name, port and path of the webhook's Service, from the MutatingWebhookConfiguration.
   */
  private String[] webhookService() {
    String service =
        kubectl
            .run(
                "get",
                "mutatingwebhookconfiguration",
                "-o",
                "jsonpath={.items[0].webhooks[0].clientConfig.service.namespace}/{.items[0].webhooks[0].clientConfig.service.name}"
                    + "/{.items[0].webhooks[0].clientConfig.service.port}/{.items[0].webhooks[0].clientConfig.service.path}")
            .stdout();
    return service.split("/", 4);
  }

  /** The admission webhook's refusal, or the API server's, as kubectl printed it. */
  static String refusal(ProcessResult r) {
    return (r.stderr() + r.stdout()).strip();
  }
}
