package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.SessionActivity;
import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code status.activity} on the real API server: the sidecars' {@code activity.<pod>} ledger
 * entries (written here with the sidecar's own service-account identity, as the sidecar writes
 * them) summed into the status, shown by {@code kubectl get}, kept when a pod goes, and bounded
 * whatever a pod wrote.
 */
class SessionActivityIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String SA = "coding-agent";
  static OperatorUnderTest stack;
  static KubernetesClient client;
  static String ns;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    client = stack.client;
    ns = stack.kube.newNamespace("activity");
    stack.createServiceAccount(ns, SA);
  }

  @Test
  void twoPodsActivityIsSummedShownAndOutlivesThePods() {
    // A ttl, so that no column of kubectl get is empty (the test splits a row on blanks).
    stack.createSession(ns, githubSession("busy").ttl("2h"));
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    String t1 = now.minusSeconds(30).toString();
    String t2 = now.minusSeconds(20).toString();
    String t5 = now.minusSeconds(5).toString();
    Pod first = stack.createPod(ns, agentPod("busy-1", "busy", SA));
    stack.createPod(ns, agentPod("busy-2", "busy", SA));
    await("both pods counted")
        .atMost(WAIT)
        .until(() -> Integer.valueOf(2).equals(stack.session(ns, "busy").getStatus().pods()));

    writeAsSidecar(
        "busy",
        Map.of(
            LeaseLedger.activityKey("busy-1"),
            """
            {"requests":40,"denials":3,"lastActivity":"%s",
             "lastDenial":{"time":"%s","host":"evil.example","method":"POST",
                           "path":"/upload","reason":"no-rule","requestId":"req-1"}}"""
                .formatted(t5, t1),
            LeaseLedger.activityKey("busy-2"),
            """
            {"requests":2,"denials":1,"lastActivity":"%s",
             "lastDenial":{"time":"%s","host":"api.github.com","method":"DELETE",
                           "path":"/repos/acme/repo-a","rule":"github-api",
                           "reason":"method-not-allowed","requestId":"req-2"}}"""
                .formatted(t2, t2),
            LeaseLedger.activityKey("not-json"),
            "{{{"));

    await("summed into the status")
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              SessionActivity activity = stack.session(ns, "busy").getStatus().activity();
              assertThat(activity).isNotNull();
              assertThat(activity.requests()).isEqualTo(42);
              assertThat(activity.denials()).isEqualTo(4);
            });
    SessionActivity activity = stack.session(ns, "busy").getStatus().activity();
    assertThat(activity.lastActivity()).isEqualTo(t5);
    assertThat(activity.lastDenial().requestId()).as("the latest of the two").isEqualTo("req-2");
    assertThat(activity.lastDenial().rule()).isEqualTo("github-api");

    ProcessResult get = stack.kube.kubectl("get", "agentsession", "busy", "-n", ns);
    assertThat(get.exitCode()).as(get.stderr()).isZero();
    System.out.println("[evidence] kubectl get agentsession busy:\n" + get.stdout());
    String[] header = get.stdout().lines().findFirst().orElseThrow().split("\\s+");
    String[] row = get.stdout().lines().skip(1).findFirst().orElseThrow().split("\\s+");
    List<String> columns = List.of(header);
    assertThat(row).hasSameSizeAs(header);
    assertThat(row[columns.indexOf("DENIALS")]).isEqualTo("4");
    assertThat(row[columns.indexOf("LAST-ACTIVITY")])
        .as("an age, as kubectl prints a date column")
        .matches("\\d+s");

    // A pod goes: its counts stay in the session's (folded into the retired entry).
    client.resource(first).withGracePeriod(0).delete();
    await("folded")
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(ledger("busy"))
                    .doesNotContainKey(LeaseLedger.activityKey("busy-1"))
                    .containsKey(LeaseLedger.RETIRED_ACTIVITY_KEY)
                    .containsKey(LeaseLedger.activityKey("busy-2")));
    assertThat(stack.session(ns, "busy").getStatus().activity().requests()).isEqualTo(42);
    assertThat(stack.session(ns, "busy").getStatus().activity().denials()).isEqualTo(4);
  }

  /**
   * Attacker B: a pod bound to the session writes the ledger. What it writes is shown bounded and
   * cannot go negative; no decision reads it.
   */
  @Test
  void whatAPodWritesIsBounded() {
    stack.createSession(ns, githubSession("forged"));
    stack.createPod(ns, agentPod("forged-1", "forged", SA));
    String path = "/" + "x".repeat(5000);
    writeAsSidecar(
        "forged",
        Map.of(
            LeaseLedger.activityKey("forged-1"),
            "{\"requests\":-9,\"denials\":7,\"lastActivity\":\"soon\",\"lastDenial\":{\"time\":"
                + "\"2026-12-07T10:00:00Z\",\"host\":\"a\\nb\",\"path\":\""
                + path
                + "\"}}"));
    await("shown")
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              SessionActivity a = stack.session(ns, "forged").getStatus().activity();
              assertThat(a).isNotNull();
              assertThat(a.denials()).isEqualTo(7);
            });
    SessionActivity a = stack.session(ns, "forged").getStatus().activity();
    assertThat(a.requests()).isZero();
    assertThat(a.lastActivity()).isNull();
    assertThat(a.lastDenial().host()).isEqualTo("a?b");
    assertThat(a.lastDenial().path()).hasSize(256);
  }

  private static Map<String, String> ledger(String session) {
    var cm = client.configMaps().inNamespace(ns).withName(LeaseLedger.configMapName(session)).get();
    return cm.getData() == null ? Map.of() : cm.getData();
  }

  private static void writeAsSidecar(String session, Map<String, String> entries) {
    KubernetesClient sidecar =
        stack.kube.clientWithToken(stack.kube.serviceAccountToken(ns, SA, Duration.ofMinutes(10)));
    await("ledger writable by the sidecar")
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () ->
                sidecar
                    .configMaps()
                    .inNamespace(ns)
                    .withName(LeaseLedger.configMapName(session))
                    .edit(
                        cm -> {
                          Map<String, String> data =
                              cm.getData() == null ? new HashMap<>() : new HashMap<>(cm.getData());
                          data.putAll(entries);
                          cm.setData(data);
                          return cm;
                        }));
    assertThat(stack.session(ns, session)).isInstanceOf(AgentSession.class);
  }
}
