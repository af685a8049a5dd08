package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.operator.injection.PodMarkers;
import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The AgentSession reconciler on the real API server (and OpenBao for revocation). */
class AgentSessionReconcilerIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();
  static OperatorUnderTest stack;
  static KubernetesClient client;
  static String ns;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    client = stack.client;
    ns = stack.kube.newNamespace("sessions");
    client.serviceAccounts().inNamespace(ns).resource(new ServiceAccountBuilder().withNewMetadata()
        .withName("coding-agent").endMetadata().build()).create();
  }

  @Test
  void aValidSessionBecomesActiveAndShowsInKubectlGet() {
    AgentSession created = stack.createSession(ns, githubSession("active", "ttl: 2h"));
    await("Active").atMost(WAIT).until(() -> phase("active") == Phase.Active);
    AgentSession session = stack.session(ns, "active");
    Instant expected = Instant.parse(created.getMetadata().getCreationTimestamp()).plus(Duration.ofHours(2));
    assertThat(Instant.parse(session.getStatus().expiresAt())).isEqualTo(expected);
    assertThat(session.getStatus().observedGeneration()).isEqualTo(session.getMetadata().getGeneration());
    assertThat(session.getStatus().pods()).isZero();
    Condition ready = ready(session);
    assertThat(ready.getStatus()).isEqualTo("True");
    assertThat(ready.getReason()).isEqualTo("Active");

    ProcessResult get = stack.kube.kubectl("get", "agentsessions", "-n", ns, "active");
    assertThat(get.exitCode()).as(get.stderr()).isZero();
    assertThat(get.stdout().lines().findFirst().orElseThrow().split("\\s+"))
        .containsExactly("NAME", "USER", "AGENT", "PHASE", "PODS", "EXPIRES", "AGE");
    assertThat(get.stdout()).contains("alice@example.com").contains("coding-agent").contains("Active");
  }

  @Test
  void aShortTtlExpires() {
    stack.createSession(ns, githubSession("three-seconds", "ttl: 3s"));
    await("Expired").atMost(WAIT).until(() -> phase("three-seconds") == Phase.Expired);
    Condition ready = ready(stack.session(ns, "three-seconds"));
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("Expired");
  }

  @Test
  void anInvalidSpecStaysPendingWithTheViolations() {
    stack.createSession(ns, """
        apiVersion: capgate.dev/v1alpha1
        kind: AgentSession
        metadata: {name: invalid}
        spec:
          user: alice@example.com
          agent: coding-agent
          egress:
          - {name: api, hosts: [api.github.com], paths: ["/a/../b"]}
        """);
    await("InvalidSpec").atMost(WAIT).until(() -> {
      AgentSession s = stack.session(ns, "invalid");
      return s.getStatus() != null && "InvalidSpec".equals(ready(s).getReason());
    });
    AgentSession session = stack.session(ns, "invalid");
    assertThat(session.getStatus().phase()).isEqualTo(Phase.Pending);
    assertThat(ready(session).getStatus()).isEqualTo("False");
    assertThat(ready(session).getMessage()).contains("spec.egress[0].paths").contains("dot-segments");
  }

  @Test
  void sidecarsMayReadTheirSessionAndNothingElse() {
    stack.createSession(ns, githubSession("rbac", null));
    stack.createSession(ns, githubSession("someone-else", null));
    stack.createPod(ns, agentPod("rbac-1", "rbac", "coding-agent"));
    Pod second = stack.createPod(ns, agentPod("rbac-2", "rbac", "default"));

    await("both service accounts bound").atMost(WAIT).untilAsserted(() ->
        assertThat(subjects("rbac")).containsExactly("coding-agent", "default"));
    await("status.pods").atMost(WAIT).until(() -> Integer.valueOf(2).equals(stack.session(ns, "rbac").getStatus().pods()));

    KubernetesClient sidecar = stack.kube.clientWithToken(
        stack.kube.serviceAccountToken(ns, "coding-agent", Duration.ofMinutes(10)));
    await("RBAC in force").atMost(WAIT).ignoreExceptions().until(() ->
        sidecar.resources(AgentSession.class).inNamespace(ns).withName("rbac").get() != null);
    assertForbidden(() -> sidecar.resources(AgentSession.class).inNamespace(ns).withName("someone-else").get());
    assertForbidden(() -> sidecar.secrets().inNamespace(ns).list());
    assertForbidden(() -> sidecar.pods().inNamespace(ns).list());
    sidecar.configMaps().inNamespace(ns).withName("capgate-leases-rbac").edit(cm -> {
      cm.setData(new java.util.HashMap<>(java.util.Map.of("accessor.0", "not-a-real-accessor")));
      return cm;
    });
    assertForbidden(() -> sidecar.configMaps().inNamespace(ns).withName("capgate-leases-someone-else").get());

    client.resource(second).withGracePeriod(0).delete();
    await("the last pod of a service account unbinds it").atMost(WAIT).untilAsserted(() ->
        assertThat(subjects("rbac")).containsExactly("coding-agent"));
    await("status.pods").atMost(WAIT).until(() -> Integer.valueOf(1).equals(stack.session(ns, "rbac").getStatus().pods()));
  }

  @Test
  void aPodsCaGoesWithThePod() {
    stack.createSession(ns, githubSession("custody", null));
    Pod pod = stack.createPod(ns, agentPod("custody-1", "custody", "default"));
    String ca = pod.getMetadata().getAnnotations().get(PodMarkers.CA);
    await("handed over").atMost(WAIT).untilAsserted(() -> {
      assertThat(client.secrets().inNamespace(ns).withName(ca).get().getMetadata().getOwnerReferences())
          .extracting(o -> o.getUid()).containsExactly(pod.getMetadata().getUid());
      assertThat(client.configMaps().inNamespace(ns).withName(ca).get().getMetadata().getOwnerReferences())
          .extracting(o -> o.getUid()).containsExactly(pod.getMetadata().getUid());
    });
    client.resource(pod).withGracePeriod(0).delete();
    await("garbage-collected with the pod").atMost(WAIT).until(() ->
        client.secrets().inNamespace(ns).withName(ca).get() == null
            && client.configMaps().inNamespace(ns).withName(ca).get() == null);
  }

  @Test
  void deletingTheSessionRevokesEverything() throws Exception {
    stack.createSession(ns, githubSession("revoke-me", "onRevoke: DeletePods"));
    Pod pod = stack.createPod(ns, agentPod("revoke-1", "revoke-me", "coding-agent"));
    String ca = pod.getMetadata().getAnnotations().get(PodMarkers.CA);
    String lease = newVaultLease();
    String accessor = newVaultTokenAccessor();
    assertThat(leaseExists(lease)).isTrue();
    assertThat(accessorExists(accessor)).isTrue();

    // As the sidecar would: record them in the ledger, with the pod's own service-account identity.
    KubernetesClient sidecar = stack.kube.clientWithToken(
        stack.kube.serviceAccountToken(ns, "coding-agent", Duration.ofMinutes(10)));
    await("ledger writable by the sidecar").atMost(WAIT).ignoreExceptions().untilAsserted(() ->
        sidecar.configMaps().inNamespace(ns).withName("capgate-leases-revoke-me").edit(cm -> {
          cm.setData(new java.util.HashMap<>(java.util.Map.of("lease.0", lease, "accessor.0", accessor,
              "accessor.1", "gone-already-" + UUID.randomUUID())));
          return cm;
        }));

    client.resources(AgentSession.class).inNamespace(ns).withName("revoke-me").delete();
    await("finalizer done").atMost(WAIT).until(() -> stack.session(ns, "revoke-me") == null);

    assertThat(leaseExists(lease)).as("lease revoked in OpenBao").isFalse();
    assertThat(accessorExists(accessor)).as("token revoked in OpenBao").isFalse();
    assertThat(client.secrets().inNamespace(ns).withLabel("capgate.dev/session", "revoke-me").list().getItems()).isEmpty();
    assertThat(client.configMaps().inNamespace(ns).withName(ca).get()).isNull();
    await("pods deleted (onRevoke: DeletePods)").atMost(WAIT).until(() ->
        client.pods().inNamespace(ns).withLabel(PodMarkers.SESSION, "revoke-me").list().getItems().isEmpty());
    await("events recorded").atMost(WAIT).untilAsserted(() -> assertThat(reasons("revoke-me"))
        .contains("Active", "CaMinted", "Revoked"));
    assertThat(events("revoke-me")).filteredOn(e -> e.getReason().equals("Revoked")).singleElement()
        .satisfies(e -> assertThat(e.getMessage()).contains("1 Vault lease(s)").contains("2 token accessor(s)")
            .contains("1 pod CA(s) destroyed").contains("1 pod(s) deleted"));
  }

  @Test
  void expiryDeletesPodsWhenAskedTo() {
    stack.createSession(ns, githubSession("expire-and-delete", "ttl: 5s\n  onRevoke: DeletePods"));
    stack.createPod(ns, agentPod("doomed", "expire-and-delete", "default"));
    await("Expired").atMost(WAIT).until(() -> phase("expire-and-delete") == Phase.Expired);
    await("pods deleted").atMost(WAIT).until(() ->
        client.pods().inNamespace(ns).withLabel(PodMarkers.SESSION, "expire-and-delete").list().getItems().isEmpty());
  }

  private static Phase phase(String name) {
    AgentSession s = stack.session(ns, name);
    return s == null || s.getStatus() == null ? null : s.getStatus().phase();
  }

  private static Condition ready(AgentSession session) {
    return session.getStatus().conditions().stream().filter(c -> c.getType().equals("Ready")).findFirst().orElseThrow();
  }

  private static List<String> subjects(String session) {
    RoleBinding binding = client.rbac().roleBindings().inNamespace(ns).withName("capgate-sidecar-" + session).get();
    return binding == null || binding.getSubjects() == null ? List.of()
        : binding.getSubjects().stream().map(Subject::getName).toList();
  }

  private static List<Event> events(String session) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> session.equals(e.getInvolvedObject().getName())).toList();
  }

  private static List<String> reasons(String session) {
    return events(session).stream().map(Event::getReason).toList();
  }

  private static void assertForbidden(Runnable call) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(KubernetesClientException.class,
        e -> assertThat(e.getCode()).isEqualTo(403));
  }

  /** A real lease: a PKI certificate issued with generate_lease. */
  private static String newVaultLease() throws Exception {
    String mount = "pki-" + UUID.randomUUID().toString().substring(0, 8);
    stack.bao.request("POST", "sys/mounts/" + mount, "{\"type\":\"pki\",\"config\":{\"max_lease_ttl\":\"2h\"}}");
    stack.bao.request("POST", mount + "/root/generate/internal", "{\"common_name\":\"capgate-it\",\"ttl\":\"2h\"}");
    stack.bao.request("POST", mount + "/roles/agent", "{\"allow_any_name\":true,\"generate_lease\":true,\"ttl\":\"1h\"}");
    JsonNode issued = JSON.readTree(stack.bao.request("POST", mount + "/issue/agent", "{\"common_name\":\"x.example.com\"}"));
    String lease = issued.path("lease_id").asText();
    assertThat(lease).isNotEmpty();
    return lease;
  }

  private static String newVaultTokenAccessor() throws Exception {
    JsonNode created = JSON.readTree(stack.bao.request("POST", "auth/token/create", "{\"policies\":[\"default\"],\"ttl\":\"1h\"}"));
    return created.path("auth").path("accessor").asText();
  }

  private static boolean leaseExists(String lease) {
    try {
      stack.bao.request("PUT", "sys/leases/lookup", "{\"lease_id\":\"" + lease + "\"}");
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  private static boolean accessorExists(String accessor) {
    try {
      stack.bao.request("POST", "auth/token/lookup-accessor", "{\"accessor\":\"" + accessor + "\"}");
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

}
