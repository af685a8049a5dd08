package dev.capgate.operator.it;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.dynamic;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.operator.injection.InjectedPods.proxyEnv;
import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.api.v1alpha1.VaultAuth;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.operator.naming.PodMarkers;
import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Recovery after compromise on the real API server and OpenBao: {@code kubectl annotate
 * agentsession capgate.dev/recover=<now>} revokes the session's Vault token (issued through the
 * operator's identity endpoint, as a sidecar gets it) and lease (recorded by the sidecar), restarts
 * its pods, and says so in the status, an Event and the log; the same value again does nothing.
 */
class SessionRecoveryIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String SA = "coding-agent";
  static OperatorUnderTest stack;
  static KubernetesClient client;
  static CapgateJwtAuth vault;
  static String ns;
  static String pkiMount;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    client = stack.client;
    ns = stack.kube.newNamespace("recovery");
    stack.createServiceAccount(ns, SA);
    vault = CapgateJwtAuth.enable(stack);
    pkiMount = newPkiMount();
  }

  @Test
  void annotatingRevokesTokensAndLeasesRestartsPodsOnceAndLeavesATrail() {
    stack.createSession(ns, session("compromised"));
    stack.createSession(ns, session("bystander"));
    awaitActive("compromised");
    awaitActive("bystander");
    Pod pod = stack.createPod(ns, agentPod("compromised-1", "compromised", SA));
    Pod other = stack.createPod(ns, agentPod("bystander-1", "bystander", SA));
    String token = sidecarToken(pod);
    String bystanderToken = sidecarToken(other);
    String lease = newVaultLease();
    recordLeaseAsTheSidecar("compromised", lease);
    assertThat(lookupSelf(token)).isEqualTo(200);
    assertThat(leaseExists(lease)).isTrue();

    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    annotate("compromised", now);

    await("status.lastRecovery").atMost(WAIT).until(() -> now.equals(lastRecovery("compromised")));
    Condition recovered = recovered("compromised");
    System.out.println("[evidence] Recovered condition: " + recovered.getMessage());
    assertThat(recovered.getStatus()).isEqualTo("True");
    assertThat(recovered.getReason()).isEqualTo("RecoveryCompleted");
    assertThat(recovered.getMessage())
        .contains("recovery " + now)
        .contains("set by kubectl-annotate")
        .contains("1 Vault lease(s)")
        .contains("1 token accessor(s)")
        .contains("restarted 1 pod(s)");

    VaultReply lookup = vault.as(token, "GET", "auth/token/lookup-self", null);
    System.out.println(
        "[evidence] the recovered session's token, lookup-self -> " + lookup.status());
    assertThat(lookup.status()).as("the token no longer works").isEqualTo(403);
    assertThat(leaseExists(lease)).as("the lease is revoked").isFalse();
    await("the pod is deleted")
        .atMost(WAIT)
        .until(() -> client.pods().inNamespace(ns).withName("compromised-1").get() == null);
    await("Event")
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(events("compromised"))
                    .filteredOn(e -> e.getReason().equals("Recovered"))
                    .singleElement()
                    .satisfies(e -> assertThat(e.getMessage()).isEqualTo(recovered.getMessage())));
    assertThat(lookupSelf(bystanderToken)).as("another session's token").isEqualTo(200);
    assertThat(client.pods().inNamespace(ns).withName("bystander-1").get())
        .as("another session's pod")
        .isNotNull();
    assertThat(recovered("bystander")).isNull();

    // The replacement (a controller would create it): a new pod, a new CA, a new token.
    Pod replacement = stack.createPod(ns, agentPod("compromised-2", "compromised", SA));
    assertThat(replacement.getMetadata().getAnnotations().get(PodMarkers.CA))
        .isNotEqualTo(pod.getMetadata().getAnnotations().get(PodMarkers.CA));
    String newToken = sidecarToken(replacement);
    // The same value again (kubectl annotate --overwrite) and an older one: nothing more happens.
    annotate("compromised", now);
    annotate("compromised", Instant.parse(now).minusSeconds(3600).toString());
    await("the replacement counted")
        .atMost(WAIT)
        .until(
            () -> Integer.valueOf(1).equals(stack.session(ns, "compromised").getStatus().pods()));
    // Reconciles have run since (pods went 0 -> 1); give a wrong one time to act.
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .until(() -> client.pods().inNamespace(ns).withName("compromised-2").get() != null);
    assertThat(lookupSelf(newToken)).as("the new token is left alone").isEqualTo(200);
    assertThat(events("compromised")).filteredOn(e -> e.getReason().equals("Recovered")).hasSize(1);
    assertThat(lastRecovery("compromised")).isEqualTo(now);
  }

  @Test
  void aValueThatIsNoTimestampIsReportedAndNothingIsDone() {
    stack.createSession(ns, session("typo"));
    awaitActive("typo");
    stack.createPod(ns, agentPod("typo-1", "typo", SA));
    annotate("typo", "yesterday");
    await("RecoveryFailed").atMost(WAIT).until(() -> recovered("typo") != null);
    Condition failed = recovered("typo");
    assertThat(failed.getStatus()).isEqualTo("False");
    assertThat(failed.getReason()).isEqualTo("RecoveryFailed");
    assertThat(failed.getMessage()).contains("not an RFC 3339 timestamp");
    assertThat(lastRecovery("typo")).isNull();
    assertThat(client.pods().inNamespace(ns).withName("typo-1").get()).isNotNull();
    await("Warning event")
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(events("typo"))
                    .filteredOn(e -> e.getReason().equals("RecoveryFailed"))
                    .singleElement()
                    .satisfies(e -> assertThat(e.getType()).isEqualTo("Warning")));
  }

  /** What the docs say for "everything": every session of the namespace at once. */
  @Test
  void annotatingAllRecoversEverySessionOfTheNamespace() {
    String all = stack.kube.newNamespace("recover-all");
    stack.createServiceAccount(all, SA);
    stack.createSession(all, session("one"));
    stack.createSession(all, session("two"));
    stack.createPod(all, agentPod("one-1", "one", SA));
    stack.createPod(all, agentPod("two-1", "two", SA));
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    ProcessResult annotate =
        stack.kube.kubectl(
            "annotate",
            "agentsession",
            "--all",
            "-n",
            all,
            "--overwrite",
            AgentSession.RECOVER_ANNOTATION + "=" + now);
    assertThat(annotate.exitCode()).as(annotate.stderr()).isZero();
    for (String name : List.of("one", "two")) {
      await(name + " recovered")
          .atMost(WAIT)
          .until(
              () -> {
                AgentSession s = stack.session(all, name);
                return s.getStatus() != null && now.equals(s.getStatus().lastRecovery());
              });
    }
    await("pods restarted")
        .atMost(WAIT)
        .until(() -> client.pods().inNamespace(all).list().getItems().isEmpty());
  }

  private static AgentSessionBuilder session(String name) {
    return AgentSessionBuilder.session(name)
        .user("alice@example.com")
        .agent("coding-agent")
        .vault(new VaultAuth(CapgateJwtAuth.ROLE, vault.mount))
        .credential(kv2("github", vault.kvMount + "/data/github/{{user}}", "token").bearer())
        .credential(dynamic("cert", pkiMount + "/issue/{{agent}}", "certificate").bearer())
        .egress(
            rule("github-api").hosts("api.github.com").credential("github"),
            rule("internal").hosts("api.example.com").credential("cert"));
  }

  private static void annotate(String session, String value) {
    ProcessResult result =
        stack.kube.kubectl(
            "annotate",
            "agentsession",
            session,
            "-n",
            ns,
            "--overwrite",
            AgentSession.RECOVER_ANNOTATION + "=" + value);
    assertThat(result.exitCode()).as(result.stderr()).isZero();
  }

  private static void awaitActive(String name) {
    await(name + " Active")
        .atMost(WAIT)
        .until(
            () -> {
              AgentSession s = stack.session(ns, name);
              return s != null && s.getStatus() != null && s.getStatus().phase() == Phase.Active;
            });
  }

  private static String lastRecovery(String name) {
    AgentSession s = stack.session(ns, name);
    return s == null || s.getStatus() == null ? null : s.getStatus().lastRecovery();
  }

  private static Condition recovered(String name) {
    AgentSession s = stack.session(ns, name);
    if (s == null || s.getStatus() == null || s.getStatus().conditions() == null) {
      return null;
    }
    return s.getStatus().conditions().stream()
        .filter(c -> c.getType().equals("Recovered"))
        .findFirst()
        .orElse(null);
  }

  private static List<Event> events(String session) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> session.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  /** As the pod's sidecar gets it: POST /v1/vault-token with its pod-bound token, unwrapped. */
  private static String sidecarToken(Pod pod) {
    Map<String, String> env = proxyEnv(pod);
    var answer =
        VaultTokenClient.ask(
            env.get(SidecarContract.ENV_OPERATOR_URL),
            env.get(SidecarContract.ENV_OPERATOR_CA),
            stack.podBoundToken(pod, "capgate"),
            "{}");
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    String wrapping = CapgateJwtAuth.read(answer.body()).path("wrappingToken").asText();
    VaultReply unwrapped = vault.as(wrapping, "POST", "sys/wrapping/unwrap", null);
    assertThat(unwrapped.status()).isEqualTo(200);
    return unwrapped.body().path("auth").path("client_token").asText();
  }

  private static int lookupSelf(String token) {
    return vault.as(token, "GET", "auth/token/lookup-self", null).status();
  }

  /** As the sidecar records a lease: a merge of its key into the ledger, as the pod's identity. */
  private static void recordLeaseAsTheSidecar(String session, String lease) {
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
                          data.put(LeaseLedger.leaseKey(lease), lease);
                          cm.setData(data);
                          return cm;
                        }));
  }

  /** A PKI mount whose role coding-agent issues with generate_lease (real leases). */
  private static String newPkiMount() {
    String mount = "pki-" + UUID.randomUUID().toString().substring(0, 8);
    stack.bao.request(
        "POST", "sys/mounts/" + mount, "{\"type\":\"pki\",\"config\":{\"max_lease_ttl\":\"2h\"}}");
    stack.bao.request(
        "POST",
        mount + "/root/generate/internal",
        "{\"common_name\":\"capgate-it\",\"ttl\":\"2h\",\"key_type\":\"ec\",\"key_bits\":256}");
    stack.bao.request(
        "POST",
        mount + "/roles/coding-agent",
        "{\"allow_any_name\":true,\"generate_lease\":true,\"ttl\":\"1h\",\"key_type\":\"ec\",\"key_bits\":256}");
    return mount;
  }

  private static String newVaultLease() {
    JsonNode issued =
        CapgateJwtAuth.read(
            stack.bao.request(
                "POST", pkiMount + "/issue/coding-agent", "{\"common_name\":\"x.example.com\"}"));
    return issued.path("lease_id").asText();
  }

  private static boolean leaseExists(String lease) {
    try {
      stack.bao.request("PUT", "sys/leases/lookup", "{\"lease_id\":\"" + lease + "\"}");
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }
}
