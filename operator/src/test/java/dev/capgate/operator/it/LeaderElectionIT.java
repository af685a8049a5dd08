package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.CapgateOperator;
import dev.capgate.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two operator replicas in this JVM, as a two-replica Deployment runs them: one Lease, one
 * reconciler at a time, both serving the webhook; the leader stops, the other takes over at once.
 *
 * <p>The replicas watch one namespace of their own (the JVM's shared operator, if another test
 * started it, reconciles everything too; what is counted here is each replica's own work).
 */
class LeaderElectionIT {
  static final String LEASE = "capgate-operator-leader";

  OperatorUnderTest stack;
  KubernetesClient client;
  String operatorNamespace;
  String agents;
  final List<CapgateOperator> replicas = new ArrayList<>();
  final AtomicInteger unexpectedLosses = new AtomicInteger();

  @BeforeEach
  void start() {
    stack = OperatorUnderTest.shared();
    client = stack.client;
    operatorNamespace = stack.kube.newNamespace("capgate-ha");
    agents = stack.kube.newNamespace("ha-agents");
  }

  @AfterEach
  void stop() {
    replicas.forEach(CapgateOperator::close);
    assertThat(unexpectedLosses).as("no replica lost the Lease unasked").hasValue(0);
  }

  @Test
  void oneReplicaReconcilesBothAdmitAndTheOtherTakesOverWhenTheLeaderStops() throws Exception {
    CapgateOperator first = replica("capgate/sidecar:replica-1");
    await("the first replica leads").atMost(Duration.ofSeconds(30)).until(first::isLeader);
    CapgateOperator second = replica("capgate/sidecar:replica-2");
    assertThat(first.identity()).isNotEqualTo(second.identity());
    assertThat(holder()).isEqualTo(first.identity());

    stack.createSession(agents, githubSession("ha-session").ttl("1h"));
    await("the leader reconciled the session")
        .atMost(Duration.ofSeconds(30))
        .until(() -> first.reconciliations() > 0 && phase("ha-session") != null);
    // Some more events (a status patch, dependents) have come and gone by now.
    Thread.sleep(2_000);
    assertThat(second.isLeader()).isFalse();
    assertThat(second.reconciliations()).as("the follower reconciles nothing").isZero();
    assertThat(holder()).isEqualTo(first.identity());

    // Both serve the webhook: each injects, with its own settings, and stores the pod's CA.
    assertInjects(first, "capgate/sidecar:replica-1", "via-first");
    assertInjects(second, "capgate/sidecar:replica-2", "via-second");

    // The leader stops (rolling update): it releases the Lease and the other one leads at once,
    // not after the 15 s lease duration; it reconciles what it has been watching all along.
    long start = System.nanoTime();
    first.close();
    replicas.remove(first);
    // Released, not expired: the bound is well under the 15 s lease duration.
    await("the second replica leads").atMost(Duration.ofSeconds(10)).until(second::isLeader);
    System.out.printf(
        "[measured] leadership moved %d ms after the leader stopped%n",
        Duration.ofNanos(System.nanoTime() - start).toMillis());
    assertThat(holder()).isEqualTo(second.identity());
    await("the new leader reconciles")
        .atMost(Duration.ofSeconds(30))
        .until(() -> second.reconciliations() > 0);
    assertInjects(second, "capgate/sidecar:replica-2", "via-second-again");
  }

  private void assertInjects(CapgateOperator replica, String sidecarImage, String podName)
      throws Exception {
    Pod pod =
        OperatorUnderTest.SERIALIZATION.unmarshal(
            agentPod(podName, "ha-session", "default"), Pod.class);
    pod.getMetadata().setNamespace(agents);
    JsonNode response =
        new AdmissionClient(replica.webhookPort(), replica.caBundlePem()).create(agents, pod);
    assertThat(response.get("allowed").asBoolean()).as(response.toString()).isTrue();
    String patch = AdmissionClient.patch(response).toString();
    assertThat(patch).contains("capgate-proxy").contains(sidecarImage);
    String caName =
        AdmissionClient.patch(response).findValues("value").stream()
            .filter(v -> v.has("capgate.dev/ca"))
            .map(v -> v.get("capgate.dev/ca").asText())
            .findFirst()
            .orElseThrow(() -> new AssertionError("no capgate.dev/ca annotation in " + patch));
    // Stored after the answer (issue 13).
    await("CA Secret " + caName)
        .atMost(java.time.Duration.ofSeconds(30))
        .until(() -> client.secrets().inNamespace(agents).withName(caName).get() != null);
  }

  private CapgateOperator replica(String sidecarImage) {
    Map<String, String> env = new HashMap<>();
    env.put("CAPGATE_NAMESPACE", operatorNamespace);
    env.put("CAPGATE_WATCH_NAMESPACES", agents);
    env.put("CAPGATE_SIDECAR_IMAGE", sidecarImage);
    env.put("CAPGATE_WEBHOOK_HOST", "127.0.0.1");
    env.put("CAPGATE_WEBHOOK_PORT", "0");
    env.put("CAPGATE_METRICS_PORT", "0");
    env.put("CAPGATE_IDENTITY_PORT", "0");
    env.put("CAPGATE_WEBHOOK_CERT_NAMES", "127.0.0.1");
    // The API server is not pointed at these replicas (the test calls them itself): only the
    // caBundle of a configuration that does not exist would be patched, which is logged.
    env.put("CAPGATE_WEBHOOK_MANAGE_CONFIGURATION", "false");
    env.put("CAPGATE_WEBHOOK_CONFIGURATION", "capgate-ha-it-absent");
    env.put("CAPGATE_LEADER_ELECTION_LEASE", LEASE);
    env.put("HOSTNAME", "capgate-operator-7d4b9");
    CapgateOperator replica =
        CapgateOperator.start(
            client, OperatorConfig.fromEnv(env), unexpectedLosses::incrementAndGet);
    replicas.add(replica);
    return replica;
  }

  private String holder() {
    Lease lease =
        client.resources(Lease.class).inNamespace(operatorNamespace).withName(LEASE).get();
    return lease == null ? null : lease.getSpec().getHolderIdentity();
  }

  private Object phase(String name) {
    AgentSession session =
        client.resources(AgentSession.class).inNamespace(agents).withName(name).get();
    return session == null || session.getStatus() == null ? null : session.getStatus().phase();
  }
}
