package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Through the real API server: the ports a pod declares (annotation, agent probes) reach
 * capgate-init as {@code --inbound-ports}, its hostAliases reach the sidecar as {@code
 * CAPGATE_HOST_ALIASES}, and a malformed annotation is refused with what to fix.
 */
class InboundPortsIT {
  static OperatorUnderTest stack;
  static String ns;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    ns = stack.kube.newNamespace("inbound");
    stack.createServiceAccount(ns, "coding-agent");
    stack.createSession(ns, githubSession("serve-8080").ttl("2h"));
  }

  @Test
  void declaredAndProbedPortsReachInitAndHostAliasesReachTheSidecar() {
    Pod pod =
        stack.createPod(
            ns,
            """
        apiVersion: v1
        kind: Pod
        metadata:
          name: serving-agent
          labels: {capgate.dev/inject: "true", capgate.dev/session: serve-8080}
          annotations: {capgate.dev/inbound-ports: "8080"}
        spec:
          serviceAccountName: coding-agent
          securityContext: {runAsUser: 1000}
          hostAliases: [{ip: 10.1.2.3, hostnames: [registry.internal]}]
          containers:
          - name: agent
            image: registry.example/agent:1.0
            ports: [{name: health, containerPort: 8086}]
            readinessProbe: {httpGet: {path: /ready, port: health}}
        """);
    Container init = pod.getSpec().getInitContainers().get(0);
    assertThat(init.getName()).isEqualTo("capgate-init");
    assertThat(init.getArgs()).containsExactly("init", "--inbound-ports", "8080,8086");
    Container proxy = pod.getSpec().getInitContainers().get(1);
    assertThat(proxy.getEnv())
        .filteredOn(e -> e.getName().equals("CAPGATE_HOST_ALIASES"))
        .singleElement()
        .extracting(EnvVar::getValue)
        .asString()
        .contains("\"ip\":\"10.1.2.3\"", "registry.internal");
  }

  @Test
  void aMalformedAnnotationIsRefusedWithWhatToFix() {
    stack.assertRefused(
        ns,
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: bad-ports
          labels: {capgate.dev/inject: "true", capgate.dev/session: serve-8080}
          annotations: {capgate.dev/inbound-ports: "8080,http"}
        spec:
          serviceAccountName: coding-agent
          securityContext: {runAsUser: 1000}
          containers: [{name: agent, image: registry.example/agent:1.0}]
        """,
        "annotation capgate.dev/inbound-ports must be comma-separated TCP port numbers 1-65535");
  }
}
