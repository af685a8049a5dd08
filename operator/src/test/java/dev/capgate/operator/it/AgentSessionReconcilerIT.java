package dev.capgate.operator.it;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.dynamic;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.session;
import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.OnRevoke;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.api.v1alpha1.VaultAuth;
import dev.capgate.operator.naming.PodMarkers;
import dev.capgate.operator.session.VaultRevoker;
import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
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

  /** Another namespace, whose sessions' tokens come from the same JWT auth role. */
  static String otherNs;

  static CapgateJwtAuth jwt;
  static String authMount;
  static String pkiMount;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    client = stack.client;
    ns = stack.kube.newNamespace("sessions");
    otherNs = stack.kube.newNamespace("elsewhere");
    stack.createServiceAccount(ns, "coding-agent");
    stack.createServiceAccount(otherNs, "coding-agent");
    // As documented for admins: JWT auth trusting the operator's key (no Kubernetes auth).
    jwt = CapgateJwtAuth.enable(stack);
    authMount = jwt.mount;
    pkiMount = newPkiMount();
  }

  @Test
  void aValidSessionBecomesActiveAndShowsInKubectlGet() {
    AgentSession created = stack.createSession(ns, githubSession("active").ttl("2h"));
    await("Active").atMost(WAIT).until(() -> phase("active") == Phase.Active);
    AgentSession session = stack.session(ns, "active");
    Instant expected =
        Instant.parse(created.getMetadata().getCreationTimestamp()).plus(Duration.ofHours(2));
    assertThat(Instant.parse(session.getStatus().expiresAt())).isEqualTo(expected);
    assertThat(session.getStatus().observedGeneration())
        .isEqualTo(session.getMetadata().getGeneration());
    assertThat(session.getStatus().pods()).isZero();
    Condition ready = ready(session);
    assertThat(ready.getStatus()).isEqualTo("True");
    assertThat(ready.getReason()).isEqualTo("Active");

    ProcessResult get = stack.kube.kubectl("get", "agentsessions", "-n", ns, "active");
    assertThat(get.exitCode()).as(get.stderr()).isZero();
    assertThat(get.stdout().lines().findFirst().orElseThrow().split("\\s+"))
        .containsExactly(
            "NAME",
            "USER",
            "AGENT",
            "READY",
            "PHASE",
            "MODE",
            "PODS",
            "EXPIRES",
            "DENIALS",
            "LAST-ACTIVITY",
            "AGE");
    assertThat(get.stdout().lines().skip(1).findFirst().orElseThrow().split("\\s+"))
        .as("the Ready column shows the Ready condition's status")
        .startsWith("active", "alice@example.com", "coding-agent", "True", "Active");
    assertThat(get.stdout())
        .contains("alice@example.com")
        .contains("coding-agent")
        .contains("Active");
  }

  @Test
  void aShortTtlExpires() {
    stack.createSession(ns, githubSession("three-seconds").ttl("3s"));
    await("Expired").atMost(WAIT).until(() -> phase("three-seconds") == Phase.Expired);
    Condition ready = ready(stack.session(ns, "three-seconds"));
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("Expired");
  }

  @Test
  void anInvalidSpecStaysPendingWithTheViolations() {
    stack.createSession(
        ns,
        session("invalid")
            .user("alice@example.com")
            .agent("coding-agent")
            .egress(rule("api").hosts("api.github.com").paths("/a/../b")));
    await("InvalidSpec")
        .atMost(WAIT)
        .until(
            () -> {
              AgentSession s = stack.session(ns, "invalid");
              return s.getStatus() != null && "InvalidSpec".equals(ready(s).getReason());
            });
    AgentSession session = stack.session(ns, "invalid");
    assertThat(session.getStatus().phase()).isEqualTo(Phase.Pending);
    assertThat(ready(session).getStatus()).isEqualTo("False");
    assertThat(ready(session).getMessage())
        .contains("spec.egress[0].paths")
        .contains("dot-segments");
  }

  @Test
  void sidecarsMayReadTheirSessionAndNothingElse() {
    stack.createSession(ns, githubSession("rbac"));
    stack.createSession(ns, githubSession("someone-else"));
    stack.createPod(ns, agentPod("rbac-1", "rbac", "coding-agent"));
    Pod second = stack.createPod(ns, agentPod("rbac-2", "rbac", "default"));

    await("both service accounts bound")
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(subjects("rbac")).containsExactly("coding-agent", "default"));
    await("status.pods")
        .atMost(WAIT)
        .until(() -> Integer.valueOf(2).equals(stack.session(ns, "rbac").getStatus().pods()));

    KubernetesClient sidecar =
        stack.kube.clientWithToken(
            stack.kube.serviceAccountToken(ns, "coding-agent", Duration.ofMinutes(10)));
    await("RBAC in force")
        .atMost(WAIT)
        .ignoreExceptions()
        .until(
            () ->
                sidecar.resources(AgentSession.class).inNamespace(ns).withName("rbac").get()
                    != null);
    assertForbidden(
        () -> sidecar.resources(AgentSession.class).inNamespace(ns).withName("someone-else").get());
    assertForbidden(() -> sidecar.secrets().inNamespace(ns).list());
    assertForbidden(() -> sidecar.pods().inNamespace(ns).list());
    sidecar
        .configMaps()
        .inNamespace(ns)
        .withName("capgate-leases-rbac")
        .edit(
            cm -> {
              cm.setData(
                  new java.util.HashMap<>(java.util.Map.of("accessor.0", "not-a-real-accessor")));
              return cm;
            });
    assertForbidden(
        () -> sidecar.configMaps().inNamespace(ns).withName("capgate-leases-someone-else").get());

    client.resource(second).withGracePeriod(0).delete();
    await("the last pod of a service account unbinds it")
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(subjects("rbac")).containsExactly("coding-agent"));
    await("status.pods")
        .atMost(WAIT)
        .until(() -> Integer.valueOf(1).equals(stack.session(ns, "rbac").getStatus().pods()));
  }

  @Test
  void aPodsCaGoesWithThePod() {
    stack.createSession(ns, githubSession("custody"));
    Pod pod = stack.createPod(ns, agentPod("custody-1", "custody", "default"));
    String ca = pod.getMetadata().getAnnotations().get(PodMarkers.CA);
    await("handed over")
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              assertThat(
                      client
                          .secrets()
                          .inNamespace(ns)
                          .withName(ca)
                          .get()
                          .getMetadata()
                          .getOwnerReferences())
                  .extracting(o -> o.getUid())
                  .containsExactly(pod.getMetadata().getUid());
            });
    // No per-pod ConfigMap (issue 13): the agents' trust files are made in the pod.
    assertThat(client.configMaps().inNamespace(ns).withName(ca).get()).isNull();
    client.resource(pod).withGracePeriod(0).delete();
    await("garbage-collected with the pod")
        .atMost(WAIT)
        .until(() -> client.secrets().inNamespace(ns).withName(ca).get() == null);
  }

  @Test
  void deletingTheSessionRevokesEverything() throws Exception {
    stack.createSession(ns, vaultSession("revoke-me").onRevoke(OnRevoke.DeletePods));
    Pod pod = stack.createPod(ns, agentPod("revoke-1", "revoke-me", "coding-agent"));
    String ca = pod.getMetadata().getAnnotations().get(PodMarkers.CA);
    // The session's own: a lease of its dynamic credential path (pki/issue/{{agent}}), and the
    // token of a JWT login for the session, as its sidecar would hold.
    String lease = newVaultLease("coding-agent");
    String accessor = sidecarLogin(ns, "revoke-me");
    assertThat(leaseExists(lease)).isTrue();
    assertThat(accessorExists(accessor)).isTrue();

    recordInLedger(
        "revoke-me",
        java.util.Map.of(
            "lease.0",
            lease,
            "accessor.0",
            accessor,
            "accessor.1",
            "gone-already-" + UUID.randomUUID()));

    client.resources(AgentSession.class).inNamespace(ns).withName("revoke-me").delete();
    await("finalizer done").atMost(WAIT).until(() -> stack.session(ns, "revoke-me") == null);

    assertThat(leaseExists(lease)).as("lease revoked in OpenBao").isFalse();
    assertThat(accessorExists(accessor)).as("token revoked in OpenBao").isFalse();
    assertThat(
            client
                .secrets()
                .inNamespace(ns)
                .withLabel("capgate.dev/session", "revoke-me")
                .list()
                .getItems())
        .isEmpty();
    assertThat(client.configMaps().inNamespace(ns).withName(ca).get()).isNull();
    await("pods deleted (onRevoke: DeletePods)")
        .atMost(WAIT)
        .until(
            () ->
                client
                    .pods()
                    .inNamespace(ns)
                    .withLabel(PodMarkers.SESSION, "revoke-me")
                    .list()
                    .getItems()
                    .isEmpty());
    await("events recorded")
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(reasons("revoke-me")).contains("Active", "CaMinted", "Revoked"));
    assertThat(reasons("revoke-me")).doesNotContain("LedgerEntryRefused");
    assertThat(events("revoke-me"))
        .filteredOn(e -> e.getReason().equals("Revoked"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .contains("1 Vault lease(s)")
                    .contains("2 token accessor(s)")
                    .contains("1 pod CA(s) destroyed")
                    .contains("1 pod(s) deleted")
                    .doesNotContain("refused"));
  }

  /**
   * A pod bound to a session can write anything into its ledger: the operator must not become its
   * deputy for revoking other workloads' leases and tokens.
   */
  @Test
  void foreignLedgerEntriesAreRefusedNotRevoked() throws Exception {
    stack.createSession(ns, vaultSession("tampered"));
    stack.createPod(ns, agentPod("tampered-1", "tampered", "coding-agent"));
    String lease = newVaultLease("coding-agent");
    String accessor = sidecarLogin(ns, "tampered");
    // Foreign: a lease of a path that merely starts like the session's, the same lease reached
    // with a dot segment, a login of the same role for another namespace's session of that name
    // and for another session of this namespace, a token with forged JWT-login metadata from
    // auth/token/create.
    String foreignLease = newVaultLease("coding-agent-evil");
    String climbing =
        lease.substring(0, lease.lastIndexOf('/'))
            + "/../coding-agent-evil"
            + foreignLease.substring(foreignLease.lastIndexOf('/'));
    String otherNamespacesToken = sidecarLogin(otherNs, "tampered");
    String otherSessionsToken = sidecarLogin(ns, "someone-else");
    JsonNode forged =
        JSON.readTree(
            stack.bao.request(
                "POST",
                "auth/token/create",
                JSON.writeValueAsString(
                    java.util.Map.of(
                        "policies",
                        List.of("default"),
                        "ttl",
                        "1h",
                        "meta",
                        java.util.Map.of(
                            "role", "capgate-agent", "namespace", ns, "session", "tampered")))));
    String forgedToken = forged.path("auth").path("accessor").asText();
    String rootToken = newRootTokenAccessor();

    recordInLedger(
        "tampered",
        java.util.Map.of(
            "lease.0",
            lease,
            "accessor.0",
            accessor,
            "lease.1",
            foreignLease,
            "lease.2",
            climbing,
            "accessor.1",
            otherNamespacesToken,
            "accessor.2",
            forgedToken,
            "accessor.3",
            rootToken,
            "accessor.4",
            "not an accessor",
            "accessor.5",
            otherSessionsToken));

    client.resources(AgentSession.class).inNamespace(ns).withName("tampered").delete();
    await("finalizer done").atMost(WAIT).until(() -> stack.session(ns, "tampered") == null);

    assertThat(leaseExists(lease)).as("the session's lease revoked").isFalse();
    assertThat(accessorExists(accessor)).as("the session's token revoked").isFalse();
    assertThat(leaseExists(foreignLease)).as("a foreign lease stays valid").isTrue();
    assertThat(accessorExists(otherNamespacesToken))
        .as("another namespace's token stays valid")
        .isTrue();
    assertThat(accessorExists(otherSessionsToken))
        .as("another session's token stays valid")
        .isTrue();
    assertThat(accessorExists(forgedToken))
        .as("a token-create token with forged metadata stays valid")
        .isTrue();
    assertThat(accessorExists(rootToken)).as("a root-created token stays valid").isTrue();

    await("refusal reported")
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(events("tampered"))
                    .filteredOn(e -> e.getReason().equals("LedgerEntryRefused"))
                    .singleElement()
                    .satisfies(
                        e -> {
                          assertThat(e.getType()).isEqualTo("Warning");
                          assertThat(e.getMessage())
                              .contains("refused 7 entries")
                              .contains("capgate-leases-tampered")
                              .contains("lease.1=" + foreignLease)
                              .contains("lease.2=" + climbing)
                              .contains(
                                  "accessor.1="
                                      + otherNamespacesToken
                                      + " (a session of another namespace)")
                              .contains("accessor.5=" + otherSessionsToken + " (another session)")
                              .contains("accessor.2=" + forgedToken)
                              .contains("not issued by auth/" + authMount + "/login")
                              .contains("accessor.3=" + rootToken)
                              .contains("accessor.4=not an accessor")
                              .doesNotContain("lease.0=")
                              .doesNotContain("accessor.0=")
                              .doesNotContain(otherNs);
                        }));
    assertThat(events("tampered"))
        .filteredOn(e -> e.getReason().equals("Revoked"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .contains("1 Vault lease(s)")
                    .contains("1 token accessor(s)")
                    .contains("7 ledger entries refused"));
  }

  /**
   * What OpenBao's JWT auth puts in a token with the documented claim_mappings: the operator's
   * accessor check relies on it.
   */
  @Test
  void aJwtLoginTokenNamesItsRoleNamespaceAndSession() throws Exception {
    String accessor = sidecarLogin(ns, "fix-7");
    JsonNode data =
        JSON.readTree(
                stack.bao.request(
                    "POST",
                    "auth/token/lookup-accessor",
                    JSON.writeValueAsString(java.util.Map.of("accessor", accessor))))
            .path("data");
    assertThat(data.path("path").asText()).isEqualTo("auth/" + authMount + "/login");
    assertThat(data.path("meta").path("role").asText()).isEqualTo("capgate-agent");
    assertThat(data.path("meta").path("namespace").asText()).isEqualTo(ns);
    assertThat(data.path("meta").path("session").asText()).isEqualTo("fix-7");
    assertThat(data.path("meta").path("agent").asText()).isEqualTo("coding-agent");
    stack.bao.request(
        "POST",
        "auth/token/revoke-accessor",
        JSON.writeValueAsString(java.util.Map.of("accessor", accessor)));
  }

  /** The policy the chart documents for the operator's token is all revocation needs. */
  @Test
  void theDocumentedOperatorPolicyIsEnough() throws Exception {
    String hcl =
        java.nio.file.Files.readString(
            java.nio.file.Path.of("../charts/capgate/files/operator-vault-policy.hcl"));
    String policy = "capgate-operator-" + UUID.randomUUID().toString().substring(0, 8);
    stack.bao.request(
        "PUT",
        "sys/policies/acl/" + policy,
        JSON.writeValueAsString(java.util.Map.of("policy", hcl)));
    String token =
        JSON.readTree(
                stack.bao.request(
                    "POST",
                    "auth/token/create",
                    JSON.writeValueAsString(
                        java.util.Map.of(
                            "policies", List.of(policy), "no_default_policy", true, "ttl", "10m"))))
            .path("auth")
            .path("client_token")
            .asText();
    VaultRevoker revoker = new VaultRevoker(stack.bao.client(), () -> token);
    String lease = newVaultLease("coding-agent");
    String accessor = sidecarLogin(ns, "policy-check");

    VaultRevoker.TokenOrigin origin = revoker.lookupAccessor(accessor).orElseThrow();
    assertThat(origin.path()).isEqualTo("auth/" + authMount + "/login");
    assertThat(origin.meta())
        .containsEntry("role", "capgate-agent")
        .containsEntry("namespace", ns)
        .containsEntry("session", "policy-check");
    revoker.revokeAccessor(accessor);
    revoker.revokeLease(lease);
    assertThat(accessorExists(accessor)).isFalse();
    assertThat(leaseExists(lease)).isFalse();
    assertThat(revoker.lookupAccessor(accessor)).as("gone").isEmpty();

    String withoutLookup =
        JSON.readTree(
                stack.bao.request(
                    "POST",
                    "auth/token/create",
                    JSON.writeValueAsString(
                        java.util.Map.of("policies", List.of("default"), "ttl", "10m"))))
            .path("auth")
            .path("client_token")
            .asText();
    assertThatThrownBy(
            () ->
                new VaultRevoker(stack.bao.client(), () -> withoutLookup)
                    .lookupAccessor(sidecarLogin(ns, "policy-check")))
        .isInstanceOf(VaultRevoker.VaultUnavailableException.class)
        .hasMessageContaining("auth/token/lookup-accessor");
  }

  @Test
  void expiryDeletesPodsWhenAskedTo() {
    stack.createSession(
        ns, githubSession("expire-and-delete").ttl("5s").onRevoke(OnRevoke.DeletePods));
    stack.createPod(ns, agentPod("doomed", "expire-and-delete", "default"));
    await("Expired").atMost(WAIT).until(() -> phase("expire-and-delete") == Phase.Expired);
    await("pods deleted")
        .atMost(WAIT)
        .until(
            () ->
                client
                    .pods()
                    .inNamespace(ns)
                    .withLabel(PodMarkers.SESSION, "expire-and-delete")
                    .list()
                    .getItems()
                    .isEmpty());
  }

  private static Phase phase(String name) {
    AgentSession s = stack.session(ns, name);
    return s == null || s.getStatus() == null ? null : s.getStatus().phase();
  }

  private static Condition ready(AgentSession session) {
    return session.getStatus().conditions().stream()
        .filter(c -> c.getType().equals("Ready"))
        .findFirst()
        .orElseThrow();
  }

  private static List<String> subjects(String session) {
    RoleBinding binding =
        client.rbac().roleBindings().inNamespace(ns).withName("capgate-sidecar-" + session).get();
    return binding == null || binding.getSubjects() == null
        ? List.of()
        : binding.getSubjects().stream().map(Subject::getName).toList();
  }

  private static List<Event> events(String session) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> session.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  private static List<String> reasons(String session) {
    return events(session).stream().map(Event::getReason).toList();
  }

  private static void assertForbidden(Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
  }

  /**
   * A session whose tokens come from the test's JWT auth mount and read a dynamic PKI credential.
   */
  private static AgentSessionBuilder vaultSession(String name) {
    return session(name)
        .user("alice@example.com")
        .agent("coding-agent")
        .vault(new VaultAuth("capgate-agent", authMount))
        .credential(dynamic("cert", pkiMount + "/issue/{{agent}}", "certificate").bearer())
        .egress(rule("api").hosts("api.example.com").credential("cert"));
  }

  /** As the sidecar would: write the ledger with the pod's own service-account identity. */
  private static void recordInLedger(String session, java.util.Map<String, String> entries) {
    KubernetesClient sidecar =
        stack.kube.clientWithToken(
            stack.kube.serviceAccountToken(ns, "coding-agent", Duration.ofMinutes(10)));
    await("ledger writable by the sidecar")
        .atMost(WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () ->
                sidecar
                    .configMaps()
                    .inNamespace(ns)
                    .withName("capgate-leases-" + session)
                    .edit(
                        cm -> {
                          cm.setData(new java.util.HashMap<>(entries));
                          return cm;
                        }));
  }

  /** A PKI mount with a role per name, issuing certificates with generate_lease (real leases). */
  private static String newPkiMount() {
    String mount = "pki-" + UUID.randomUUID().toString().substring(0, 8);
    stack.bao.request(
        "POST", "sys/mounts/" + mount, "{\"type\":\"pki\",\"config\":{\"max_lease_ttl\":\"2h\"}}");
    stack.bao.request(
        "POST",
        mount + "/root/generate/internal",
        "{\"common_name\":\"capgate-it\",\"ttl\":\"2h\",\"key_type\":\"ec\",\"key_bits\":256}");
    for (String role : List.of("coding-agent", "coding-agent-evil")) {
      stack.bao.request(
          "POST",
          mount + "/roles/" + role,
          "{\"allow_any_name\":true,\"generate_lease\":true,\"ttl\":\"1h\",\"key_type\":\"ec\",\"key_bits\":256}");
    }
    return mount;
  }

  /**
   * A real lease: a PKI certificate of the role issued with generate_lease ({@code
   * <mount>/issue/<role>/<id>}).
   */
  private static String newVaultLease(String role) throws Exception {
    JsonNode issued =
        JSON.readTree(
            stack.bao.request(
                "POST", pkiMount + "/issue/" + role, "{\"common_name\":\"x.example.com\"}"));
    String lease = issued.path("lease_id").asText();
    assertThat(lease).startsWith(pkiMount + "/issue/" + role + "/");
    return lease;
  }

  /**
   * A JWT login with a session JWT signed by the operator's key, as the operator logs in for a
   * sidecar.
   */
  private static String sidecarLogin(String namespace, String session) {
    String accessor = jwt.login("alice@example.com", namespace, session).path("accessor").asText();
    assertThat(accessor).isNotEmpty();
    return accessor;
  }

  private static String newRootTokenAccessor() throws Exception {
    JsonNode created =
        JSON.readTree(
            stack.bao.request(
                "POST", "auth/token/create", "{\"policies\":[\"default\"],\"ttl\":\"1h\"}"));
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
      stack.bao.request(
          "POST",
          "auth/token/lookup-accessor",
          JSON.writeValueAsString(java.util.Map.of("accessor", accessor)));
      return true;
    } catch (IllegalStateException e) {
      return false;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
