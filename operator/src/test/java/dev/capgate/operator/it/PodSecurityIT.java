package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pod Security Admission against the injected pod, through the real API server (its PodSecurity
 * admission plugin is on by default and runs after the webhook): capgate-init needs NET_ADMIN,
 * NET_RAW and root, so a namespace enforcing {@code baseline} or {@code restricted} gets capgate's
 * refusal saying which label to set, before any CA is minted; one that only warns or audits gets
 * the pod, and capgate's warning through kubectl.
 */
class PodSecurityIT {
  static OperatorUnderTest stack;
  static KubernetesClient client;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    client = stack.client;
  }

  @Test
  void aNamespaceEnforcingBaselineGetsCapgatesRefusalWithTheFixAndNoCa() {
    String ns =
        agentNamespace("psa-enforce", Map.of("pod-security.kubernetes.io/enforce", "baseline"));

    assertThatThrownBy(() -> stack.createPod(ns, agentPod("agent-psa", "psa", "coding-agent")))
        .isInstanceOfSatisfying(
            KubernetesClientException.class,
            e -> {
              System.out.println("evidence: the API server answered: " + e.getMessage());
              assertThat(e.getMessage())
                  .contains("capgate refused pod agent-psa")
                  .contains(
                      "namespace "
                          + ns
                          + " enforces Pod Security level \"baseline\""
                          + " (label pod-security.kubernetes.io/enforce=baseline)")
                  .contains("capgate-init", "NET_ADMIN", "NET_RAW")
                  .contains(
                      "kubectl label namespace "
                          + ns
                          + " pod-security.kubernetes.io/enforce=privileged --overwrite")
                  // Refused by capgate, not by PodSecurity admission after the webhook.
                  .doesNotContain("violates PodSecurity");
            });
    assertThat(stack.podCaSecrets(ns))
        .as("no CA minted for a pod that cannot be admitted")
        .isZero();
    assertThat(client.pods().inNamespace(ns).list().getItems()).isEmpty();
  }

  @Test
  void aNamespaceOnlyWarningOrAuditingAdmitsThePodWithCapgatesWarnings() {
    String ns =
        agentNamespace(
            "psa-warn",
            Map.of(
                "pod-security.kubernetes.io/warn", "restricted",
                "pod-security.kubernetes.io/audit", "baseline"));

    ProcessResult result =
        stack.kube.kubectlWithInput(
            agentPod("agent-warned", "psa", "coding-agent"), "create", "-n", ns, "-f", "-");
    System.out.println("evidence: kubectl create printed:\n" + result.stdout() + result.stderr());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stderr())
        .contains(
            "Warning: capgate: namespace "
                + ns
                + " sets pod-security.kubernetes.io/warn=restricted; capgate-init needs"
                + " NET_ADMIN, NET_RAW and root: set pod-security.kubernetes.io/warn=privileged")
        .contains(
            "Warning: capgate: namespace "
                + ns
                + " sets pod-security.kubernetes.io/audit=baseline; capgate-init needs"
                + " NET_ADMIN, NET_RAW and root: set pod-security.kubernetes.io/audit=privileged");
    Pod pod = client.pods().inNamespace(ns).withName("agent-warned").get();
    assertThat(pod.getSpec().getInitContainers())
        .extracting(Container::getName)
        .containsExactly("capgate-init", "capgate-proxy");
    // Stored after the answer (issue 13).
    stack.awaitPodCaSecrets(ns, 1);
  }

  /** A fresh namespace with these Pod Security labels, a ServiceAccount and the session "psa". */
  private static String agentNamespace(String prefix, Map<String, String> podSecurity) {
    String ns = stack.kube.newNamespace(prefix);
    client
        .namespaces()
        .withName(ns)
        .edit(
            n ->
                new NamespaceBuilder(n)
                    .editMetadata()
                    .addToLabels(podSecurity)
                    .endMetadata()
                    .build());
    stack.createServiceAccount(ns, "coding-agent");
    stack.createSession(ns, githubSession("psa").ttl("2h"));
    return ns;
  }
}
