package dev.capgate.operator.it;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.operator.injection.InjectedPods.proxyEnv;
import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.identity.VaultTokenExchange;
import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.api.v1alpha1.VaultAuth;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.operator.naming.SessionNames;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, bypass 4: Vault itself enforces each session's scope. OpenBao is configured as the
 * README tells an admin (JWT auth trusting the operator's key, templated policy on the session's
 * user, no Kubernetes auth); pods are created through the real webhook and their tokens minted by
 * the API server bound to them, as the kubelet mints the sidecar's projected token. Every attempt
 * and its answer is printed ({@code [evidence]}).
 */
class VaultIdentityIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String SA = "coding-agent";
  static OperatorUnderTest stack;
  static KubernetesClient client;
  static CapgateJwtAuth vault;
  static String ns;
  static String aliceSecret;
  static String bobSecret;
  static Pod alicePod;
  static Pod bobPod;

  /** Everything the operator logs during this class (JUL, which its SLF4J binding writes to). */
  static final java.util.Queue<String> LOGS = new java.util.concurrent.ConcurrentLinkedQueue<>();

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    client = stack.client;
    java.util.logging.Logger.getLogger("")
        .addHandler(
            new java.util.logging.Handler() {
              @Override
              public void publish(java.util.logging.LogRecord record) {
                LOGS.add(
                    new dev.capgate.common.logging.JsonLogFormatter("operator").format(record));
              }

              @Override
              public void flush() {}

              @Override
              public void close() {}
            });
    ns = stack.kube.newNamespace("identity");
    stack.createServiceAccount(ns, SA);
    vault = CapgateJwtAuth.enable(stack);
    aliceSecret = "ghp-alice-" + UUID.randomUUID();
    bobSecret = "ghp-bob-" + UUID.randomUUID();
    vault.putSecret("alice@example.com", aliceSecret);
    vault.putSecret("bob@example.com", bobSecret);
    // Two sessions of two users in ONE namespace, run by ONE service account: the service account
    // alone must say nothing about whose secrets a pod may read.
    stack.createSession(ns, session("alice-session", "alice@example.com"));
    stack.createSession(ns, session("bob-session", "bob@example.com"));
    awaitActive("alice-session");
    awaitActive("bob-session");
    alicePod = stack.createPod(ns, agentPod("alice-agent", "alice-session", SA));
    bobPod = stack.createPod(ns, agentPod("bob-agent", "bob-session", SA));
  }

  @Test
  void aSessionsSidecarGetsATokenThatReadsItsUsersSecretAndNothingElse() {
    HttpResponse<String> answer = askOperator(stack.podBoundToken(alicePod, "capgate"), "{}");
    evidence("alice's sidecar (pod-bound token, audience capgate) POST /v1/vault-token", answer);
    assertThat(answer.statusCode()).isEqualTo(200);
    JsonNode body = CapgateJwtAuth.read(answer.body());
    assertThat(body.path(VaultTokenExchange.FIELD_NAMESPACE).asText()).isEqualTo(ns);
    assertThat(body.path(VaultTokenExchange.FIELD_SESSION).asText()).isEqualTo("alice-session");
    assertThat(body.path(VaultTokenExchange.FIELD_WRAP_TTL_SECONDS).asInt()).isEqualTo(60);
    String wrapping = body.path(VaultTokenExchange.FIELD_WRAPPING_TOKEN).asText();

    VaultReply unwrapped = vault.as(wrapping, "POST", "sys/wrapping/unwrap", null);
    assertThat(unwrapped.status()).isEqualTo(200);
    JsonNode auth = unwrapped.body().path("auth");
    String token = auth.path("client_token").asText();
    System.out.println(
        "[evidence] unwrap at OpenBao -> 200, policies "
            + auth.path("token_policies")
            + ", metadata "
            + auth.path("metadata"));
    assertThat(auth.path("metadata").path("namespace").asText()).isEqualTo(ns);
    assertThat(auth.path("metadata").path("session").asText()).isEqualTo("alice-session");
    assertThat(auth.path("metadata").path("role").asText()).isEqualTo(CapgateJwtAuth.ROLE);

    VaultReply again = vault.as(wrapping, "POST", "sys/wrapping/unwrap", null);
    evidence("the same wrapping token unwrapped a second time", again);
    assertThat(again.status()).as("single use").isNotEqualTo(200);

    VaultReply own = vault.as(token, "GET", vault.kvMount + "/data/github/alice@example.com", null);
    System.out.println(
        "[evidence] alice's token GET "
            + vault.kvMount
            + "/data/github/alice@example.com -> "
            + own.status()
            + (own.body().toString().contains(aliceSecret) ? " (alice's secret)" : ""));
    assertThat(own.status()).isEqualTo(200);
    assertThat(own.body().path("data").path("data").path("token").asText()).isEqualTo(aliceSecret);

    VaultReply other = vault.as(token, "GET", vault.kvMount + "/data/github/bob@example.com", null);
    evidence("alice's token GET " + vault.kvMount + "/data/github/bob@example.com", other);
    assertThat(other.status()).as("OpenBao itself refuses bob's path").isEqualTo(403);
    assertThat(other.body().toString()).doesNotContain(bobSecret);

    // The operator's record of what it issued: not readable, let alone writable, by the pods.
    String ledger = SessionNames.tokens("alice-session");
    ConfigMap tokens = client.configMaps().inNamespace(ns).withName(ledger).get();
    assertThat(tokens.getData().values()).contains(auth.path("accessor").asText());
    assertThat(tokens.getMetadata().getOwnerReferences())
        .extracting(o -> o.getName())
        .containsExactly("alice-session");
    try (KubernetesClient pod = stack.kube.clientWithToken(stack.podBoundToken(alicePod, null))) {
      await("the sidecar's RBAC is in force")
          .atMost(WAIT)
          .ignoreExceptions()
          .until(
              () ->
                  pod.resources(AgentSession.class).inNamespace(ns).withName("alice-session").get()
                      != null);
      assertThatThrownBy(() -> pod.configMaps().inNamespace(ns).withName(ledger).get())
          .isInstanceOfSatisfying(
              KubernetesClientException.class,
              e -> {
                System.out.println(
                    "[evidence] alice's pod (API token) GET configmap "
                        + ledger
                        + " -> "
                        + e.getCode());
                assertThat(e.getCode()).isEqualTo(403);
              });
    }

    String accessor = auth.path("accessor").asText();
    await("issuance reported on the session")
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(events("alice-session"))
                    .filteredOn(e -> e.getReason().equals("VaultTokenIssued"))
                    .anySatisfy(
                        e -> assertThat(e.getMessage()).contains("alice-agent").contains(accessor))
                    .allSatisfy(
                        e ->
                            assertThat(e.getMessage())
                                .doesNotContain(wrapping)
                                .doesNotContain(token)));
    assertThat(stack.bao.logFile()).content().doesNotContain(aliceSecret);
    assertThat(LOGS)
        .as("the operator logged the issuance")
        .anyMatch(l -> l.contains("issued a Vault token") && l.contains(accessor));
    assertThat(LOGS)
        .as("but never a token or the secret")
        .noneMatch(l -> l.contains(wrapping) || l.contains(token) || l.contains(aliceSecret));
  }

  @Test
  void alicesPodCannotObtainBobsSession() {
    // The body is not where the session comes from: the pod's own label is.
    HttpResponse<String> answer =
        askOperator(
            stack.podBoundToken(alicePod, "capgate"),
            "{\"namespace\":\"" + ns + "\",\"session\":\"bob-session\"}");
    evidence("alice's sidecar asking for bob-session in the body", answer);
    assertThat(answer.statusCode()).isEqualTo(200);
    JsonNode body = CapgateJwtAuth.read(answer.body());
    assertThat(body.path("session").asText()).isEqualTo("alice-session");
    String token = unwrap(body.path("wrappingToken").asText());
    VaultReply other = vault.as(token, "GET", vault.kvMount + "/data/github/bob@example.com", null);
    evidence("that token GET bob's path", other);
    assertThat(other.status()).isEqualTo(403);

    // Re-labelling the running pod to bob's session is refused at admission.
    assertThatThrownBy(
            () ->
                client
                    .pods()
                    .inNamespace(ns)
                    .withName("alice-agent")
                    .edit(
                        p -> {
                          p.getMetadata().getLabels().put("capgate.dev/session", "bob-session");
                          return p;
                        }))
        .isInstanceOfSatisfying(
            KubernetesClientException.class,
            e -> {
              System.out.println(
                  "[evidence] relabel alice-agent to bob-session -> "
                      + e.getCode()
                      + " "
                      + firstLine(e.getMessage()));
              assertThat(e.getCode()).isIn(400, 403, 422);
            });

    // And bob's own sidecar gets bob's token, which reads bob's secret and not alice's.
    String bobs =
        unwrap(
            CapgateJwtAuth.read(askOperator(stack.podBoundToken(bobPod, "capgate"), "{}").body())
                .path("wrappingToken")
                .asText());
    assertThat(
            vault
                .as(bobs, "GET", vault.kvMount + "/data/github/bob@example.com", null)
                .body()
                .toString())
        .contains(bobSecret);
    VaultReply alices =
        vault.as(bobs, "GET", vault.kvMount + "/data/github/alice@example.com", null);
    evidence("bob's token GET alice's path", alices);
    assertThat(alices.status()).isEqualTo(403);
  }

  /**
   * Each port serves its own path only, so that the chart's NetworkPolicy can let pods reach the
   * identity port and keep them off admission: a valid pod-bound token gets nothing on the webhook
   * port, and an AdmissionReview gets no decision on the identity port.
   */
  @Test
  void theWebhookPortServesNoVaultTokenAndTheIdentityPortNoAdmission() throws Exception {
    assertThat(stack.operator.identityPort()).isNotEqualTo(stack.operator.webhookPort());
    assertThat(proxyEnv(alicePod).get(SidecarContract.ENV_OPERATOR_URL))
        .isEqualTo("https://127.0.0.1:" + stack.operator.identityPort());

    HttpResponse<String> onWebhook =
        VaultTokenClient.ask(
            "https://127.0.0.1:" + stack.operator.webhookPort(),
            stack.operator.caBundlePem(),
            stack.podBoundToken(alicePod, "capgate"),
            "{}");
    evidence("alice's sidecar asking on the webhook port", onWebhook);
    assertThat(onWebhook.statusCode()).isEqualTo(404);
    assertThat(onWebhook.body()).doesNotContain("wrappingToken");

    Pod pod =
        OperatorUnderTest.SERIALIZATION.unmarshal(
            agentPod("identity-port-agent", "alice-session", SA), Pod.class);
    pod.getMetadata().setNamespace(ns);
    int podCas = stack.podCaSecrets(ns);
    HttpResponse<String> onIdentity =
        new AdmissionClient(stack.operator.identityPort(), stack.operator.caBundlePem())
            .post(AdmissionClient.createReview(ns, pod).toString());
    System.out.println(
        "[evidence] an AdmissionReview on the identity port -> "
            + onIdentity.statusCode()
            + " "
            + onIdentity.body());
    assertThat(onIdentity.statusCode()).isEqualTo(404);
    assertThat(onIdentity.body()).doesNotContain("allowed");
    // No decision means no pod CA minted for it either.
    assertThat(stack.podCaSecrets(ns)).isEqualTo(podCas);
  }

  @Test
  void aPodThatIsNotInjectedIsRefused() {
    Pod plain =
        stack.createPod(
            ns,
            """
        apiVersion: v1
        kind: Pod
        metadata:
          name: not-injected
          labels:
            capgate.dev/inject: "false"
        spec:
          serviceAccountName: coding-agent
          containers:
          - name: agent
            image: registry.example/agent:1.0
        """);
    HttpResponse<String> answer = askOperator(stack.podBoundToken(plain, "capgate"), "{}");
    // (It cannot even carry alice's session label: capgate-inject-label-required refuses that.)
    evidence("a pod with inject \"false\" (same service account), its own pod-bound token", answer);
    assertThat(answer.statusCode()).isEqualTo(403);
    assertThat(error(answer)).contains("not opted in");
  }

  @Test
  void aTokenOfTheServiceAccountThatIsNotBoundToAPodIsRefused() {
    String token = stack.kube.serviceAccountToken(ns, SA, Duration.ofMinutes(10), "capgate");
    HttpResponse<String> answer = askOperator(token, "{}");
    evidence("a TokenRequest token of " + SA + " (audience capgate, bound to no pod)", answer);
    assertThat(answer.statusCode()).isEqualTo(403);
    assertThat(error(answer)).contains("not bound to a pod");
  }

  @Test
  void otherAudiencesAndNoTokenAre401() {
    for (var attempt :
        Map.of(
                "alice's pod-bound token with the old audience vault",
                    stack.podBoundToken(alicePod, "vault"),
                "alice's pod-bound token for the API server (default audience)",
                    stack.podBoundToken(alicePod, null),
                "no token", "")
            .entrySet()) {
      HttpResponse<String> answer = askOperator(attempt.getValue(), "{}");
      evidence(attempt.getKey(), answer);
      assertThat(answer.statusCode()).as(attempt.getKey()).isEqualTo(401);
      assertThat(answer.body()).doesNotContain("wrappingToken");
    }
  }

  @Test
  void thePodsServiceAccountHasNoVaultLoginAtAll() {
    JsonNode mounts = CapgateJwtAuth.read(stack.bao.request("GET", "sys/auth", null)).path("data");
    List<String> types = new java.util.ArrayList<>();
    mounts
        .properties()
        .forEach(m -> types.add(m.getKey() + "=" + m.getValue().path("type").asText()));
    System.out.println("[evidence] OpenBao auth methods: " + types);
    assertThat(types).noneMatch(t -> t.endsWith("=kubernetes"));

    String saToken = stack.kube.serviceAccountToken(ns, SA, Duration.ofMinutes(10), "vault");
    Map<String, String> login = Map.of("role", CapgateJwtAuth.ROLE, "jwt", saToken);
    VaultReply kubernetes = vault.as(null, "POST", "auth/kubernetes/login", login);
    evidence(SA + "'s own token (audience vault) at auth/kubernetes/login", kubernetes);
    assertThat(kubernetes.status()).isNotEqualTo(200);
    assertThat(kubernetes.body().toString()).doesNotContain("client_token");

    VaultReply jwt = vault.as(null, "POST", "auth/" + vault.mount + "/login", login);
    evidence(SA + "'s own token (signed by the API server) at auth/" + vault.mount + "/login", jwt);
    assertThat(jwt.status()).isNotEqualTo(200);
    assertThat(jwt.body().toString()).doesNotContain("client_token");
  }

  @Test
  void deletingTheSessionRevokesItsTokenInVault() {
    stack.createSession(ns, session("alice-doomed", "alice@example.com"));
    awaitActive("alice-doomed");
    Pod pod = stack.createPod(ns, agentPod("alice-doomed-agent", "alice-doomed", SA));
    String token =
        unwrap(
            CapgateJwtAuth.read(askOperator(stack.podBoundToken(pod, "capgate"), "{}").body())
                .path("wrappingToken")
                .asText());
    String bobs =
        unwrap(
            CapgateJwtAuth.read(askOperator(stack.podBoundToken(bobPod, "capgate"), "{}").body())
                .path("wrappingToken")
                .asText());
    assertThat(vault.as(token, "GET", "auth/token/lookup-self", null).status()).isEqualTo(200);

    client.resources(AgentSession.class).inNamespace(ns).withName("alice-doomed").delete();
    await("finalizer done").atMost(WAIT).until(() -> stack.session(ns, "alice-doomed") == null);

    VaultReply lookup = vault.as(token, "GET", "auth/token/lookup-self", null);
    evidence("after deleting alice-doomed: its token's lookup-self", lookup);
    assertThat(lookup.status()).isEqualTo(403);
    VaultReply read =
        vault.as(token, "GET", vault.kvMount + "/data/github/alice@example.com", null);
    evidence("after deleting alice-doomed: its token reads alice's path", read);
    assertThat(read.status()).isEqualTo(403);
    assertThat(vault.as(bobs, "GET", "auth/token/lookup-self", null).status())
        .as("another session's token is left alone")
        .isEqualTo(200);

    HttpResponse<String> late = askOperator(stack.podBoundToken(pod, "capgate"), "{}");
    evidence("the deleted session's pod asking again", late);
    assertThat(late.statusCode()).isEqualTo(403);
  }

  @Test
  void expiryRevokesTheSessionsTokenInVault() {
    stack.createSession(ns, session("alice-brief", "alice@example.com").ttl("20s"));
    awaitActive("alice-brief");
    Pod pod = stack.createPod(ns, agentPod("alice-brief-agent", "alice-brief", SA));
    String token =
        unwrap(
            CapgateJwtAuth.read(askOperator(stack.podBoundToken(pod, "capgate"), "{}").body())
                .path("wrappingToken")
                .asText());
    assertThat(vault.as(token, "GET", "auth/token/lookup-self", null).status()).isEqualTo(200);

    await("Expired")
        .atMost(WAIT)
        .until(() -> stack.session(ns, "alice-brief").getStatus().phase() == Phase.Expired);
    await("revoked in OpenBao")
        .atMost(WAIT)
        .until(() -> vault.as(token, "GET", "auth/token/lookup-self", null).status() == 403);
    evidence(
        "after alice-brief expired: its token's lookup-self",
        vault.as(token, "GET", "auth/token/lookup-self", null));
    HttpResponse<String> late = askOperator(stack.podBoundToken(pod, "capgate"), "{}");
    evidence("the expired session's pod asking again", late);
    assertThat(late.statusCode()).isEqualTo(403);
    assertThat(error(late)).contains("expired");
  }

  @Test
  void aLoginVaultRefusesIs503AndReportedOnTheSession() {
    stack.createSession(
        ns,
        session("no-such-role", "alice@example.com")
            .vault(new VaultAuth("not-configured-in-vault", vault.mount)));
    awaitActive("no-such-role");
    Pod pod = stack.createPod(ns, agentPod("no-such-role-agent", "no-such-role", SA));
    HttpResponse<String> answer = askOperator(stack.podBoundToken(pod, "capgate"), "{}");
    evidence("a session whose spec.vault.role Vault does not know", answer);
    assertThat(answer.statusCode()).isEqualTo(503);
    assertThat(error(answer))
        .contains("Vault refused the login")
        .contains("not-configured-in-vault");
    assertThat(
            client.configMaps().inNamespace(ns).withName(SessionNames.tokens("no-such-role")).get())
        .as("nothing issued, nothing recorded")
        .isNull();
    await("refusal reported on the session")
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(events("no-such-role"))
                    .filteredOn(e -> e.getReason().equals("VaultTokenRefused"))
                    .singleElement()
                    .satisfies(
                        e -> {
                          assertThat(e.getType()).isEqualTo("Warning");
                          assertThat(e.getMessage())
                              .contains("no-such-role-agent")
                              .contains("Vault refused the login");
                        }));
  }

  /**
   * The key is created once and kept: Vault trusts its public half. A broken Secret is an error,
   * not replaced.
   */
  @Test
  void theSigningKeyIsKeptAcrossRestartsAndABrokenSecretIsNotReplaced() {
    var store = new dev.capgate.operator.identity.SigningKeyStore(client);
    var first = store.loadOrCreate(OperatorUnderTest.OPERATOR_NAMESPACE, "capgate-session-signer");
    assertThat(dev.capgate.api.identity.SessionJwt.keyId(first.getPublic()))
        .isEqualTo(
            dev.capgate.api.identity.SessionJwt.keyId(
                CapgateJwtAuth.operatorKeys(stack).getPublic()));
    assertThat(dev.capgate.api.identity.SigningKeys.publicKeyPem(first.getPublic()))
        .isEqualTo(vault.publicPem);

    String other = "signer-" + UUID.randomUUID().toString().substring(0, 8);
    var created = store.loadOrCreate(ns, other);
    assertThat(store.loadOrCreate(ns, other).getPublic()).isEqualTo(created.getPublic());
    client
        .secrets()
        .inNamespace(ns)
        .withName(other)
        .edit(
            secret -> {
              secret
                  .getData()
                  .put(
                      "tls.key",
                      java.util.Base64.getEncoder().encodeToString("not a key".getBytes()));
              return secret;
            });
    assertThatThrownBy(() -> store.loadOrCreate(ns, other))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(ns + "/" + other)
        .hasMessageContaining("EC key pair");
  }

  // --- helpers -------------------------------------------------------------------------------

  private static AgentSessionBuilder session(String name, String user) {
    return AgentSessionBuilder.session(name)
        .user(user)
        .agent("coding-agent")
        .vault(new VaultAuth(CapgateJwtAuth.ROLE, vault.mount))
        .credential(kv2("github", vault.kvMount + "/data/github/{{user}}", "token").bearer())
        .egress(rule("github-api").hosts("api.github.com").credential("github"));
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

  /**
   * POST /v1/vault-token where and as alice's sidecar would: its injected URL, trusting only its
   * injected CA.
   */
  private static HttpResponse<String> askOperator(String bearer, String body) {
    Map<String, String> env = proxyEnv(alicePod);
    return VaultTokenClient.ask(
        env.get(SidecarContract.ENV_OPERATOR_URL),
        env.get(SidecarContract.ENV_OPERATOR_CA),
        bearer,
        body);
  }

  private static String unwrap(String wrapping) {
    VaultReply unwrapped = vault.as(wrapping, "POST", "sys/wrapping/unwrap", null);
    assertThat(unwrapped.status()).as(unwrapped.body().toString()).isEqualTo(200);
    return unwrapped.body().path("auth").path("client_token").asText();
  }

  private static String error(HttpResponse<String> answer) {
    return CapgateJwtAuth.read(answer.body()).path("error").asText();
  }

  /** What was tried and what came back; a wrapping token is shown by its length only. */
  private static void evidence(String attempt, HttpResponse<String> answer) {
    evidence(attempt, answer.statusCode(), answer.body());
  }

  /** OpenBao's answer to a test's own call (the operator's code never prints one). */
  private static void evidence(String attempt, VaultReply answer) {
    evidence(
        attempt, answer.status(), answer.body().isMissingNode() ? "" : answer.body().toString());
  }

  private static void evidence(String attempt, int status, String answer) {
    String body =
        answer == null
            ? ""
            : answer
                .replaceAll(
                    "\"wrappingToken\"\\s*:\\s*\"([^\"]*)\"", "\"wrappingToken\":\"<redacted>\"")
                .strip();
    System.out.println("[evidence] " + attempt + " -> " + status + " " + firstLine(body));
  }

  private static String firstLine(String text) {
    String line = text == null ? "" : text.lines().findFirst().orElse("");
    return line.length() > 400 ? line.substring(0, 400) + "..." : line;
  }

  private static List<Event> events(String session) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> session.equals(e.getInvolvedObject().getName()))
        .toList();
  }
}
