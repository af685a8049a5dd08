package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.testkit.ProcessResult;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;

/**
 * One namespace {@code e2e-<random>} with what a platform team prepares for agents there (the
 * service account the Vault role is bound to, the upstreams' CA for the sidecar), an AgentSession,
 * and an agent pod that opts in with the label {@code capgate.dev/inject}. Closing it saves the
 * pod's logs (sidecar audit included) under target/e2e-logs and deletes the namespace.
 */
public final class AgentSandbox implements AutoCloseable {
  public static final String POD = "agent";
  private final Stack stack;
  private final Kubectl kubectl;
  private final String namespace;
  private final String session;

  private AgentSandbox(Stack stack, String namespace, String session) {
    this.stack = stack;
    this.kubectl = new Kubectl(stack);
    this.namespace = namespace;
    this.session = session;
  }

  /** A sandbox whose pod runs under {@code session} (its namespace is the sandbox's own). */
  public static AgentSandbox start(String label, AgentSessionBuilder session) {
    Stack stack = Stack.get();
    String namespace = "e2e-" + label + "-" + random(5);
    AgentSandbox box = new AgentSandbox(stack, namespace, session.name());
    box.prepare(session.yaml());
    return box;
  }

  private void prepare(String sessionYaml) {
    long t0 = System.nanoTime();
    kubectl.run("create", "namespace", namespace).orThrow();
    kubectl.run("-n", namespace, "create", "serviceaccount", stack.agentServiceAccount()).orThrow();
    kubectl.apply(
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: %s, namespace: %s}
        data:
          ca.crt: |
        %s"""
            .formatted(
                stack.upstreamCaConfigMap(), namespace, stack.upstreamCaPem().strip().indent(4)));
    kubectl
        .run(
            sessionYaml.getBytes(StandardCharsets.UTF_8),
            Duration.ofSeconds(60),
            "-n",
            namespace,
            "apply",
            "-f",
            "-")
        .orThrow();
    awaitPhase("Active", Duration.ofSeconds(60));
    addPod(POD);
    Transcript.note(
        namespace
            + ": session "
            + session
            + " Active, agent pod Ready in "
            + Duration.ofNanos(System.nanoTime() - t0).toMillis()
            + " ms");
  }

  /**
   * Another agent pod of the session, admitted by whichever webhook serves now, Ready
   * (LifecycleE2E: a pod for a session stored before an upgrade).
   */
  public void addPod(String name) {
    kubectl.create(podYaml(name));
    ProcessResult ready =
        kubectl.run(
            null,
            Duration.ofSeconds(200),
            "-n",
            namespace,
            "wait",
            "--for=condition=Ready",
            "pod/" + name,
            "--timeout=180s");
    if (!ready.success()) {
      kubectl.run("-n", namespace, "describe", "pod", name);
      kubectl.run("-n", namespace, "logs", name, "-c", "capgate-proxy");
    }
    assertThat(ready.exitCode()).as("agent pod %s Ready: %s", name, ready.stderr()).isZero();
  }

  private String podYaml(String name) {
    return """
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          namespace: %s
          labels: {capgate.dev/inject: "true", capgate.dev/session: %s}
        spec:
          serviceAccountName: %s
          terminationGracePeriodSeconds: 2
          hostAliases: [{ip: "%s", hostnames: [%s]}%s]
          containers:
            - name: agent
              image: capgate.local/agent:dev
              imagePullPolicy: IfNotPresent
              securityContext: {runAsUser: 1000, runAsNonRoot: true, allowPrivilegeEscalation: false}
        """
        .formatted(
            name,
            namespace,
            session,
            stack.agentServiceAccount(),
            stack.upstreamIp(),
            String.join(
                ", ",
                stack
                    .valueOr(
                        "CAPGATE_E2E_UPSTREAM_HOSTS",
                        "github.test api.github.test internal.test mcp.test")
                    .split(" ")),
            s3Alias() + authAlias() + grpcAlias());
  }

  /** The S3 server's own Service (CloudCredentialsE2E), when the stack has one. */
  private String s3Alias() {
    String ip = stack.valueOr("CAPGATE_E2E_S3_IP", "");
    return ip.isEmpty()
        ? ""
        : ", {ip: \"%s\", hostnames: [%s]}"
            .formatted(ip, stack.valueOr("CAPGATE_E2E_S3_HOST", "s3.test"));
  }

  /** The OAuth authorization server's own Service (OAuthE2E), when the stack has one. */
  private String authAlias() {
    String ip = stack.valueOr("CAPGATE_E2E_AUTH_IP", "");
    return ip.isEmpty()
        ? ""
        : ", {ip: \"%s\", hostnames: [%s]}"
            .formatted(ip, stack.valueOr("CAPGATE_E2E_AUTH_HOST", "auth.test"));
  }

  /** The gRPC upstream's own Service (GrpcE2E), when the stack has one (the local stack only). */
  private String grpcAlias() {
    String ip = stack.valueOr("CAPGATE_E2E_GRPC_IP", "");
    return ip.isEmpty()
        ? ""
        : ", {ip: \"%s\", hostnames: [%s]}"
            .formatted(ip, stack.valueOr("CAPGATE_E2E_GRPC_HOST", "grpc.test"));
  }

  public void awaitPhase(String phase, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String seen = "";
    while (System.nanoTime() < deadline) {
      seen =
          kubectl
              .run(
                  "-n", namespace, "get", "agentsession", session, "-o", "jsonpath={.status.phase}")
              .stdout();
      if (phase.equals(seen)) {
        return;
      }
      sleep(300);
    }
    throw new AssertionError(
        "session "
            + namespace
            + "/"
            + session
            + " not "
            + phase
            + " after "
            + timeout
            + " (phase "
            + seen
            + ")");
  }

  public ProcessResult sh(String script) {
    return kubectl.sh(namespace, POD, script);
  }

  public Kubectl kubectl() {
    return kubectl;
  }

  public String namespace() {
    return namespace;
  }

  public String session() {
    return session;
  }

  public String sidecarLog() {
    return kubectl.run("-n", namespace, "logs", POD, "-c", "capgate-proxy").stdout();
  }

  @Override
  public void close() {
    for (String container : new String[] {"capgate-proxy", "capgate-init", "agent"}) {
      ProcessResult logs = kubectl.run("-n", namespace, "logs", POD, "-c", container);
      Transcript.save(
          namespace + "-" + container + ".log",
          (logs.stdout() + logs.stderr()).getBytes(StandardCharsets.UTF_8));
    }
    kubectl.run("-n", namespace, "get", "events", "--sort-by=.lastTimestamp");
    kubectl.run("delete", "namespace", namespace, "--wait=false");
    // Every output and log so far (this class's pod logs are saved above), for every secret value.
    java.util.List<String> leaks = SecretSweep.findings(stack, kubectl);
    assertThat(leaks).as("secret values found in outputs or logs").isEmpty();
  }

  static String random(int n) {
    String alphabet = "bcdfghjklmnpqrstvwxz2456789";
    SecureRandom r = new SecureRandom();
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return s.toString();
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
