package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.identity.VaultTokenExchange;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.operator.CapgateOperator;
import dev.capgate.operator.config.OperatorConfig;
import dev.capgate.operator.webhook.UnservedNamespacePolicy;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * watchNamespaces limits the webhook, with two installations side by side on the real API server
 * (each a real operator with its own webhook configuration, admission policies and namespace): a
 * pod opting in in A's namespace is injected by A, in B's by B, and in a namespace neither serves
 * it is refused by the unserved-namespaces policy (both installations have one; neither refuses the
 * other's pods). A third installation claiming A's namespace does not start.
 *
 * <p>The JVM's shared operator serves every namespace (no watchNamespaces), which cannot share a
 * cluster with these two (UnservedNamespacePolicy): while this class runs, its webhook leaves this
 * class's namespaces out, and the two installations' policies are deleted afterwards.
 */
class ServedNamespacesIT {
  static OperatorUnderTest stack;
  static KubernetesClient admin;
  static String teamA;
  static String teamB;
  static String nobodys;
  static Installation a;
  static Installation b;
  static LabelSelector sharedSelector;

  record Installation(String configuration, String namespace, CapgateOperator operator) {}

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    admin = stack.client;
    teamA = stack.kube.newNamespace("team-a");
    teamB = stack.kube.newNamespace("team-b");
    nobodys = stack.kube.newNamespace("nobodys");
    sharedSelector = narrowTheSharedWebhook(List.of(teamA, teamB, nobodys));
    a = install("capgate-served-a", teamA);
    b = install("capgate-served-b", teamB);
    for (String ns : List.of(teamA, teamB)) {
      stack.createServiceAccount(ns, "agent");
      stack.createSession(ns, githubSession("served").ttl("1h"));
    }
    stack.createServiceAccount(nobodys, "agent");
    await("both sessions are active")
        .atMost(Duration.ofSeconds(60))
        .until(() -> active(teamA) && active(teamB));
  }

  @AfterAll
  static void stop() {
    for (Installation i : new Installation[] {a, b}) {
      if (i == null) {
        continue;
      }
      i.operator().close();
      OperatorUnderTest.removeInstallation(admin, i.configuration());
    }
    for (String ns : List.of(teamA, teamB)) {
      admin.pods().inNamespace(ns).withLabel("capgate.dev/session", "served").delete();
    }
    admin
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName("capgate-injector")
        .edit(
            c -> {
              c.getWebhooks().forEach(w -> w.setNamespaceSelector(sharedSelector));
              return c;
            });
  }

  @Test
  void eachInstallationLabelsTheNamespacesItServes() {
    assertThat(servedBy(teamA)).isEqualTo("capgate-served-a");
    assertThat(servedBy(teamB)).isEqualTo("capgate-served-b");
    assertThat(servedBy(nobodys)).isNull();
  }

  @Test
  void aPodIsInjectedByTheInstallationServingItsNamespaceOnly() {
    Pod inA = stack.createPod(teamA, agentPod("agent-a", "served", "agent"));
    Pod inB = stack.createPod(teamB, agentPod("agent-b", "served", "agent"));
    assertThat(operatorUrl(inA)).endsWith(":" + a.operator().identityPort());
    assertThat(operatorUrl(inB)).endsWith(":" + b.operator().identityPort());
    // Injected once: a second webhook would have added a second capgate-init.
    assertThat(inA.getSpec().getInitContainers())
        .filteredOn(c -> c.getName().equals("capgate-init"))
        .hasSize(1);
    System.out.println(
        "[evidence] two installations side by side: team-a's pod injected by A (identity port "
            + a.operator().identityPort()
            + "), team-b's by B (identity port "
            + b.operator().identityPort()
            + ")");
  }

  @Test
  void anOptedInPodWhereNoInstallationServesIsRefused() {
    // Both installations' policies match here; either one's refusal is the same message.
    OperatorUnderTest.awaitPolicy(
        admin, nobodys, agentPod("agent-nowhere", "served", "agent"), "capgate-served-", true);
    assertThatThrownBy(() -> stack.createPod(nobodys, agentPod("agent-nowhere", "served", "agent")))
        .isInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class)
        .hasMessageContaining("ValidatingAdmissionPolicy 'capgate-served-")
        .hasMessageContaining(
            "no capgate installation serves the namespace "
                + nobodys
                + " (none lists it in watchNamespaces");
    Pod plain =
        admin
            .pods()
            .inNamespace(nobodys)
            .resource(
                OperatorUnderTest.SERIALIZATION.unmarshal(
                    agentPod("not-opted-in", "served", "agent")
                        .replaceAll("(?m)^    capgate\\.dev/.*\n", ""),
                    Pod.class))
            .dryRun()
            .create();
    assertThat(plain.getMetadata().getLabels()).doesNotContainKey("capgate.dev/inject");
    System.out.println("[evidence] opted-in pod in a namespace no installation serves: refused");
  }

  @Test
  void aSecondInstallationCannotTakeANamespaceOver() {
    assertThatThrownBy(() -> install("capgate-served-c", teamA))
        .hasMessageContaining(
            "namespace "
                + teamA
                + " is served by the capgate installation capgate-served-a (label"
                + " capgate.dev/served-by), not by capgate-served-c");
    assertThat(servedBy(teamA)).isEqualTo("capgate-served-a");
    assertThat(
            admin
                .admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName("capgate-served-c")
                .get())
        .isNull();
  }

  private static Installation install(String configuration, String watched) {
    String own = stack.kube.newNamespace("capgate-inst");
    Map<String, String> env = OperatorUnderTest.loopbackEnv(own, configuration, stack.bao);
    env.put("CAPGATE_WATCH_NAMESPACES", watched);
    env.put("CAPGATE_LEADER_ELECTION", "false");
    env.put("CAPGATE_ORPHANED_CA_GRACE", "2m");
    return new Installation(
        configuration, own, CapgateOperator.start(admin, OperatorConfig.fromEnv(env), () -> {}));
  }

  /** Leaves {@code namespaces} out of the shared operator's webhook; returns its selector. */
  private static LabelSelector narrowTheSharedWebhook(List<String> namespaces) {
    MutatingWebhookConfiguration shared =
        admin
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName("capgate-injector")
            .get();
    LabelSelector before = shared.getWebhooks().getFirst().getNamespaceSelector();
    admin
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName("capgate-injector")
        .edit(
            c -> {
              c.getWebhooks()
                  .forEach(
                      w -> {
                        LabelSelector s = w.getNamespaceSelector();
                        var expressions = new ArrayList<>(s.getMatchExpressions());
                        expressions.add(
                            new LabelSelectorRequirementBuilder()
                                .withKey("kubernetes.io/metadata.name")
                                .withOperator("NotIn")
                                .withValues(namespaces)
                                .build());
                        s.setMatchExpressions(expressions);
                      });
              return c;
            });
    return before;
  }

  private static boolean active(String namespace) {
    AgentSession s = stack.session(namespace, "served");
    return s != null && s.getStatus() != null && s.getStatus().phase() == Phase.Active;
  }

  private static String servedBy(String namespace) {
    Map<String, String> labels =
        admin.namespaces().withName(namespace).get().getMetadata().getLabels();
    return labels == null ? null : labels.get(UnservedNamespacePolicy.SERVED_BY);
  }

  private static String operatorUrl(Pod pod) {
    return pod.getSpec().getInitContainers().stream()
        .filter(c -> c.getName().equals("capgate-proxy"))
        .flatMap(c -> c.getEnv().stream())
        .filter(e -> e.getName().equals(VaultTokenExchange.ENV_OPERATOR_URL))
        .map(EnvVar::getValue)
        .findFirst()
        .orElseThrow();
  }
}
