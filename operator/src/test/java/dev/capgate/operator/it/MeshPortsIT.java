package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.operator.CapgateOperator;
import dev.capgate.operator.config.OperatorConfig;
import dev.capgate.operator.webhook.UnservedNamespacePolicy;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Beside a mesh (docs/meshes.md): an operator installed with a non-default sidecar uid and ports
 * (the chart's {@code sidecar.proxyUid} and {@code sidecar.ports}, as the variables the chart sets)
 * injects exactly those into the init container's rules and the sidecar's settings, through the
 * real API server, and guards that uid, not the default one.
 *
 * <p>Its webhook is scoped to one namespace the JVM's shared operator leaves alone (that operator's
 * own), so the two never inject the same pod.
 */
class MeshPortsIT {
  static final String WEBHOOK_CONFIGURATION = "capgate-mesh-ports-it";
  static final Map<String, String> PORTS =
      Map.of(
          "CAPGATE_SIDECAR_PROXY_UID", "4242",
          "CAPGATE_SIDECAR_PROXY_PORT", "20001",
          "CAPGATE_SIDECAR_DNS_PORT", "20053",
          "CAPGATE_SIDECAR_ADMIN_PORT", "20021",
          // A mesh proxy's uid beside the sidecar (chart sidecar.exemptUids).
          "CAPGATE_SIDECAR_EXEMPT_UIDS", "5000");

  static OperatorUnderTest stack;
  static KubernetesClient admin;
  static CapgateOperator operator;

  /** The shared operator's namespace: its webhook leaves it out, this one covers only it. */
  static final String AGENTS = OperatorUnderTest.OPERATOR_NAMESPACE;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    admin = stack.client;
    String own = stack.kube.newNamespace("capgate-mesh");
    Map<String, String> env = OperatorUnderTest.loopbackEnv(own, WEBHOOK_CONFIGURATION, stack.bao);
    env.putAll(PORTS);
    // Its reconciler watches its own (empty) namespace: the shared operator reconciles AGENTS.
    env.put("CAPGATE_WATCH_NAMESPACES", own);
    env.put("CAPGATE_LEADER_ELECTION", "false");
    operator = CapgateOperator.start(admin, OperatorConfig.fromEnv(env), () -> {});
    // Narrowed to AGENTS at once: no other test makes pods while this class runs.
    OperatorUnderTest.narrowWebhook(admin, WEBHOOK_CONFIGURATION, AGENTS);
    // It serves AGENTS in effect, so AGENTS carries its served-by label (as its operator would
    // put it there, had it AGENTS in watchNamespaces; its reconciler must leave AGENTS to the
    // shared one): its unserved-namespaces policy, applied because it has watchNamespaces, would
    // refuse the pods here otherwise.
    admin
        .namespaces()
        .withName(AGENTS)
        .edit(
            n -> {
              n.getMetadata()
                  .getLabels()
                  .put(UnservedNamespacePolicy.SERVED_BY, WEBHOOK_CONFIGURATION);
              return n;
            });
    stack.createServiceAccount(AGENTS, "mesh-agent");
    stack.createSession(AGENTS, githubSession("beside-a-mesh").ttl("1h"));
    await("the session is active")
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              AgentSession s = stack.session(AGENTS, "beside-a-mesh");
              return s.getStatus() != null && s.getStatus().phase() == Phase.Active;
            });
  }

  @AfterAll
  static void stop() {
    if (operator != null) {
      operator.close();
    }
    // What the installation leaves behind in the cluster, as a removed installation must: its
    // unserved-namespaces policy (it would refuse the shared operator's pods) and its labels.
    OperatorUnderTest.removeInstallation(admin, WEBHOOK_CONFIGURATION);
    admin
        .namespaces()
        .withName(AGENTS)
        .edit(
            n -> {
              n.getMetadata().getLabels().remove(UnservedNamespacePolicy.SERVED_BY);
              return n;
            });
    admin.pods().inNamespace(AGENTS).withLabel("capgate.dev/session", "beside-a-mesh").delete();
  }

  @Test
  void theInitRulesAndTheSidecarGetTheConfiguredUidAndPorts() {
    Pod pod = stack.createPod(AGENTS, agentPod("mesh-agent-1", "beside-a-mesh", "mesh-agent"));

    Container init = container(pod, "capgate-init");
    Container proxy = container(pod, "capgate-proxy");
    Map<String, String> expected =
        Map.of(
            "CAPGATE_PROXY_UID", "4242",
            "CAPGATE_PROXY_PORT", "20001",
            "CAPGATE_DNS_PORT", "20053",
            "CAPGATE_ADMIN_PORT", "20021",
            "CAPGATE_EXEMPT_UIDS", "5000");
    // capgate-init makes its iptables rules from exactly these (sidecar InitRulesIT, the same
    // variables): the exempt uid, the REDIRECT targets, the admin port open inbound; beside them
    // only the digests of the trust material it assembles.
    assertThat(env(init))
        .containsAllEntriesOf(expected)
        .containsOnlyKeys(
            java.util.stream.Stream.concat(
                    expected.keySet().stream(),
                    java.util.stream.Stream.of(
                        "CAPGATE_TRUST_ROOTS_SHA256", "CAPGATE_POD_CA_FINGERPRINT"))
                .toList());
    assertThat(init.getArgs()).containsExactly("init");
    assertThat(init.getSecurityContext().getRunAsUser()).isZero();
    // The sidecar's flags (--proxy-uid, --proxy-port, ... as CAPGATE_* variables) agree.
    assertThat(env(proxy)).containsAllEntriesOf(expected);
    assertThat(proxy.getSecurityContext().getRunAsUser()).isEqualTo(4242L);
    assertThat(proxy.getSecurityContext().getRunAsGroup()).isEqualTo(4242L);
    assertThat(proxy.getStartupProbe().getHttpGet().getPort().getIntVal()).isEqualTo(20021);
    assertThat(proxy.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(20021);
    assertThat(List.of(init, proxy))
        .allSatisfy(c -> assertThat(env(c).values()).doesNotContain("1447", "14001", "14053"));
  }

  @Test
  void anAgentAsTheConfiguredUidIsRefusedAndTheDefaultUidIsAnOrdinaryOne() {
    stack.assertRefused(
        AGENTS,
        agentPod("as-sidecar", "beside-a-mesh", "mesh-agent")
            .replace("runAsUser: 1000", "runAsUser: 4242"),
        "runs as uid 4242 (from the pod's securityContext), the capgate sidecar's uid");
    stack.assertRefused(
        AGENTS,
        agentPod("as-mesh-proxy", "beside-a-mesh", "mesh-agent")
            .replace("runAsUser: 1000", "runAsUser: 5000"),
        "runs as uid 5000 (from the pod's securityContext), a uid the pod's capgate rules exempt"
            + " for another proxy");
    Pod ordinary =
        stack.createPod(
            AGENTS,
            agentPod("as-default-uid", "beside-a-mesh", "mesh-agent")
                .replace("runAsUser: 1000", "runAsUser: 1447"));
    assertThat(ordinary.getSpec().getContainers().getFirst().getSecurityContext().getRunAsUser())
        .isNull();
    assertThat(ordinary.getSpec().getSecurityContext().getRunAsUser()).isEqualTo(1447L);
  }

  @Test
  void aPeerMayNotBeOpenedOnTheConfiguredProxyPort() {
    stack.assertRefused(
        AGENTS,
        agentPod("opens-proxy", "beside-a-mesh", "mesh-agent")
            .replace(
                "  labels:", "  annotations: {capgate.dev/inbound-ports: \"20001\"}\n  labels:"),
        "may not open port 20001: it is the sidecar's own (20001 transparent listener, 20053 DNS)");
  }

  private static Container container(Pod pod, String name) {
    return pod.getSpec().getInitContainers().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private static Map<String, String> env(Container c) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar v : c.getEnv()) {
      if (v.getValue() != null) {
        env.put(v.getName(), v.getValue());
      }
    }
    return env;
  }
}
