package dev.capgate.operator.it;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.session;
import static dev.capgate.operator.it.OperatorUnderTest.agentPod;
import static dev.capgate.operator.it.OperatorUnderTest.githubSession;
import static dev.capgate.operator.it.OperatorUnderTest.githubToken;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.injection.PodInjector;
import dev.capgate.operator.naming.PodMarkers;
import dev.capgate.operator.naming.SessionNames;
import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The admission webhook through the real API server: what gets stored, and what is refused. */
class AdmissionWebhookIT {
  static OperatorUnderTest stack;
  static KubernetesClient client;
  static String ns;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    client = stack.client;
    ns = stack.kube.newNamespace("admission");
    stack.createServiceAccount(ns, "coding-agent");
    stack.createSession(ns, githubSession("fix-issue-42").ttl("2h"));
  }

  @Test
  void injectsAnOptedInPod() throws Exception {
    Pod pod = stack.createPod(ns, agentPod("agent-1", "fix-issue-42", "coding-agent"));

    List<Container> init = pod.getSpec().getInitContainers();
    assertThat(init)
        .extracting(Container::getName)
        .containsExactly("capgate-init", "capgate-proxy");
    Container initContainer = init.get(0);
    assertThat(initContainer.getImage()).isEqualTo(OperatorUnderTest.SIDECAR_IMAGE);
    assertThat(initContainer.getArgs()).containsExactly("init");
    assertThat(initContainer.getSecurityContext().getRunAsUser()).isZero();
    assertThat(initContainer.getSecurityContext().getCapabilities().getAdd())
        .containsExactly("NET_ADMIN", "NET_RAW");
    assertThat(initContainer.getSecurityContext().getCapabilities().getDrop())
        .containsExactly("ALL");

    Container proxy = init.get(1);
    assertThat(proxy.getRestartPolicy()).isEqualTo("Always");
    assertThat(proxy.getArgs()).containsExactly("proxy");
    assertThat(proxy.getSecurityContext().getRunAsUser()).isEqualTo(1447L);
    assertThat(proxy.getSecurityContext().getRunAsGroup()).isEqualTo(1447L);
    assertThat(proxy.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(proxy.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(proxy.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(proxy.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(proxy.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(14021);
    // The sidecar logs in nowhere itself: the operator hands it its Vault token (issue 11).
    assertThat(env(proxy))
        .doesNotContainKeys(
            "CAPGATE_VAULT_ROLE", "CAPGATE_VAULT_AUTH_MOUNT", "CAPGATE_VAULT_TOKEN_FILE");
    assertThat(env(proxy))
        .containsEntry("CAPGATE_SESSION_NAMESPACE", ns)
        .containsEntry("CAPGATE_SESSION_NAME", "fix-issue-42")
        .containsEntry("CAPGATE_VAULT_ADDR", stack.bao.address())
        .containsEntry("CAPGATE_OPERATOR_URL", "https://127.0.0.1:" + stack.operator.identityPort())
        .containsEntry("CAPGATE_OPERATOR_CA", stack.operator.caBundlePem())
        .containsEntry("CAPGATE_IDENTITY_TOKEN_FILE", "/var/run/secrets/capgate/token/token")
        .containsEntry("CAPGATE_CA_DIR", "/var/run/secrets/capgate/ca")
        .containsEntry("CAPGATE_PROXY_UID", "1447");

    // Invariant 2: no token for the agent; the sidecar alone has one, for the operator.
    assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSpec().getVolumes())
        .noneMatch(v -> v.getName().startsWith("kube-api-access-"));
    Container agent = pod.getSpec().getContainers().getFirst();
    assertThat(agent.getVolumeMounts())
        .extracting(m -> m.getName())
        .containsExactly("capgate-trust");
    assertThat(proxy.getVolumeMounts())
        .extracting(m -> m.getName())
        .contains("capgate-ca", "capgate-token");
    var token =
        pod.getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals("capgate-token"))
            .findFirst()
            .orElseThrow();
    assertThat(token.getProjected().getSources().getFirst().getServiceAccountToken().getAudience())
        .isEqualTo("capgate");
    assertThat(
            token
                .getProjected()
                .getSources()
                .getFirst()
                .getServiceAccountToken()
                .getExpirationSeconds())
        .isEqualTo(3600L);
    // ...and one for the Kubernetes API (default audience), where Fabric8 and client-go look,
    // in the sidecar only: the API server refuses the identity audience (see below).
    var kubeApi =
        pod.getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals("capgate-kube-api"))
            .findFirst()
            .orElseThrow();
    var sources = kubeApi.getProjected().getSources();
    assertThat(sources).hasSize(3);
    assertThat(sources.get(0).getServiceAccountToken().getAudience()).isNull();
    assertThat(sources.get(0).getServiceAccountToken().getExpirationSeconds()).isEqualTo(3607L);
    assertThat(sources.get(0).getServiceAccountToken().getPath()).isEqualTo("token");
    assertThat(sources.get(1).getConfigMap().getName()).isEqualTo("kube-root-ca.crt");
    assertThat(sources.get(1).getConfigMap().getItems())
        .extracting(i -> i.getKey() + "->" + i.getPath())
        .containsExactly("ca.crt->ca.crt");
    assertThat(sources.get(2).getDownwardAPI().getItems())
        .extracting(i -> i.getPath() + "<-" + i.getFieldRef().getFieldPath())
        .containsExactly("namespace<-metadata.namespace");
    assertThat(proxy.getVolumeMounts())
        .filteredOn(m -> m.getName().equals("capgate-kube-api"))
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.getMountPath())
                  .isEqualTo("/var/run/secrets/kubernetes.io/serviceaccount");
              assertThat(m.getReadOnly()).isTrue();
            });
    // capgate-init: no token, no CA key; only what it needs to write the agents' trust files.
    assertThat(pod.getSpec().getInitContainers().getFirst().getVolumeMounts())
        .extracting(m -> m.getName() + ":" + m.getMountPath() + ":" + m.getReadOnly())
        .containsExactly(
            "capgate-system-roots:/etc/capgate/system-roots:true",
            "capgate-pod-ca:/etc/capgate/pod-ca:true",
            "capgate-trust:/etc/capgate/trust:null");
    assertThat(pod.getSpec().getVolumes())
        .filteredOn(v -> v.getName().equals("capgate-pod-ca"))
        .singleElement()
        .satisfies(
            v ->
                assertThat(v.getSecret().getItems())
                    .extracting(i -> i.getKey())
                    .containsExactly("root.crt"));

    assertThat(env(agent))
        .containsEntry("SSL_CERT_FILE", "/etc/capgate/trust/ca-bundle.pem")
        .containsEntry("REQUESTS_CA_BUNDLE", "/etc/capgate/trust/ca-bundle.pem")
        .containsEntry("CURL_CA_BUNDLE", "/etc/capgate/trust/ca-bundle.pem")
        .containsEntry("GIT_SSL_CAINFO", "/etc/capgate/trust/ca-bundle.pem")
        .containsEntry("NODE_EXTRA_CA_CERTS", "/etc/capgate/trust/pod-ca.crt")
        .containsKey("JAVA_TOOL_OPTIONS");

    // The pod CA: Secret (key, sidecar only) and ConfigMap (public part), named by the annotation.
    String caName = pod.getMetadata().getAnnotations().get(PodMarkers.CA);
    assertThat(caName).startsWith("capgate-ca-");
    assertThat(pod.getMetadata().getAnnotations()).containsEntry(PodMarkers.STATUS, "injected");
    assertThat(pod.getMetadata().getLabels()).containsEntry(PodMarkers.SESSION, "fix-issue-42");
    Secret secret = stack.caSecret(ns, caName);
    assertThat(secret.getData()).containsKeys("ca.crt", "ca.key", "root.crt");
    assertThat(secret.getMetadata().getLabels())
        .containsEntry("capgate.dev/session", "fix-issue-42");
    X509Certificate signing =
        certificate(Base64.getDecoder().decode(secret.getData().get("ca.crt")));
    NameConstraints constraints =
        NameConstraints.getInstance(
            ASN1OctetString.getInstance(
                    signing.getExtensionValue(Extension.nameConstraints.getId()))
                .getOctets());
    assertThat(constraints.getPermittedSubtrees())
        .extracting(s -> s.getBase().getName().toString())
        .containsExactly("api.github.com", ".githubusercontent.com");
    AgentSession session = stack.session(ns, "fix-issue-42");
    Instant expiry =
        Instant.parse(session.getMetadata().getCreationTimestamp()).plus(Duration.ofHours(2));
    assertThat(signing.getNotAfter().toInstant()).isBeforeOrEqualTo(expiry);

    // The root agents trust is in the Secret (capgate-init mounts root.crt only); no per-pod
    // ConfigMap any more: the system roots are one ConfigMap per namespace (issue 13).
    X509Certificate root =
        certificate(Base64.getDecoder().decode(secret.getData().get("root.crt")));
    signing.verify(root.getPublicKey());
    assertThat(pod.getMetadata().getAnnotations().get(PodMarkers.CA_FINGERPRINT))
        .isEqualTo("sha256:" + sha256(root.getEncoded()));
    assertThat(client.configMaps().inNamespace(ns).withName(caName).get()).isNull();
    assertThat(OperatorUnderTest.SERIALIZATION.asJson(secret).length())
        .as("per-pod objects ≤ 8 KiB")
        .isLessThan(8 * 1024);
    Map<String, String> initEnv = new java.util.HashMap<>();
    pod.getSpec()
        .getInitContainers()
        .getFirst()
        .getEnv()
        .forEach(e -> initEnv.put(e.getName(), e.getValue()));
    assertThat(initEnv)
        .containsEntry(
            SidecarContract.ENV_POD_CA_FINGERPRINT,
            pod.getMetadata().getAnnotations().get(PodMarkers.CA_FINGERPRINT));
    String rootsName =
        pod.getSpec().getVolumes().stream()
            .filter(v -> PodInjector.TRUST_ROOTS_VOLUME.equals(v.getName()))
            .findFirst()
            .orElseThrow()
            .getConfigMap()
            .getName();
    ConfigMap roots = client.configMaps().inNamespace(ns).withName(rootsName).get();
    assertThat(roots.getImmutable()).isTrue();
    assertThat(roots.getData().get(SidecarContract.TRUST_ROOTS_KEY)).contains("BEGIN CERTIFICATE");
    assertThat(
            sha256(
                roots
                    .getData()
                    .get(SidecarContract.TRUST_ROOTS_KEY)
                    .getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(initEnv.get(SidecarContract.ENV_TRUST_ROOTS_SHA256));

    // Once the pod exists, its CA belongs to it (and goes with it).
    await("CA handed over to the pod")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .secrets()
                            .inNamespace(ns)
                            .withName(caName)
                            .get()
                            .getMetadata()
                            .getOwnerReferences())
                    .extracting(o -> o.getUid())
                    .containsExactly(pod.getMetadata().getUid()));
  }

  /**
   * Attacker B may create ConfigMaps in the namespace: a ConfigMap squatting the shared roots' name
   * with roots of B's own is never mounted as such. The webhook refuses the pod while it is there
   * (naming it), and a pod admitted before it was swapped would stop in capgate-init (the digest in
   * its spec; AgentTrustTest in the sidecar). Deleting it lets the operator write the right one.
   */
  @Test
  void aSquattedSharedRootsConfigMapIsNeverUsed() {
    String squatted = stack.kube.newNamespace("roots-squat");
    stack.createServiceAccount(squatted, "coding-agent");
    stack.createSession(squatted, githubSession("squat-session"));
    // Learn the name from a first namespace's pod, then plant another content under it.
    Pod first = stack.createPod(ns, agentPod("agent-roots-name", "fix-issue-42", "coding-agent"));
    String rootsName =
        first.getSpec().getVolumes().stream()
            .filter(v -> PodInjector.TRUST_ROOTS_VOLUME.equals(v.getName()))
            .findFirst()
            .orElseThrow()
            .getConfigMap()
            .getName();
    client
        .configMaps()
        .inNamespace(squatted)
        .resource(
            new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                .withNewMetadata()
                .withName(rootsName)
                .endMetadata()
                .withData(
                    Map.of(
                        SidecarContract.TRUST_ROOTS_KEY,
                        new dev.capgate.testkit.Pki("attacker root").caCertPem()))
                .build())
        .create();

    assertThatThrownBy(
            () ->
                stack.createPod(
                    squatted, agentPod("agent-squatted", "squat-session", "coding-agent")))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("does not hold the system roots capgate writes there");

    client.configMaps().inNamespace(squatted).withName(rootsName).delete();
    await("the operator writes the right roots at the next pod")
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () ->
                stack.createPod(
                        squatted,
                        agentPod(
                            "agent-after-" + System.nanoTime() % 100000,
                            "squat-session",
                            "coding-agent"))
                    != null);
    ConfigMap written = client.configMaps().inNamespace(squatted).withName(rootsName).get();
    assertThat(written.getData().get(SidecarContract.TRUST_ROOTS_KEY))
        .isEqualTo(
            client
                .configMaps()
                .inNamespace(ns)
                .withName(rootsName)
                .get()
                .getData()
                .get(SidecarContract.TRUST_ROOTS_KEY));
  }

  /**
   * The sidecar's two tokens, minted as the kubelet mints them (TokenRequest bound to the pod): the
   * default-audience one reads the session through the API server, the identity-audience one
   * ({@code capgate}, for the operator's /v1/vault-token) is not accepted by the API server at all.
   */
  @Test
  void theSidecarsApiTokenReadsItsSessionWhileTheVaultTokenIsRefused() {
    Pod pod = stack.createPod(ns, agentPod("agent-api-token", "fix-issue-42", "coding-agent"));
    await("the session's sidecar RoleBinding names the pod's service account")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .rbac()
                            .roleBindings()
                            .inNamespace(ns)
                            .withName(SessionNames.sidecarRbac("fix-issue-42"))
                            .get()
                            .getSubjects())
                    .extracting(s -> s.getName())
                    .contains("coding-agent"));

    try (KubernetesClient sidecar = stack.kube.clientWithToken(stack.podBoundToken(pod, null))) {
      AgentSession session =
          sidecar.resources(AgentSession.class).inNamespace(ns).withName("fix-issue-42").get();
      assertThat(session.getSpec().user()).isEqualTo("alice@example.com");
      // This session only.
      assertThatThrownBy(
              () ->
                  sidecar
                      .resources(AgentSession.class)
                      .inNamespace(ns)
                      .withName("short-lived")
                      .get())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    }
    try (KubernetesClient vaultToken =
        stack.kube.clientWithToken(stack.podBoundToken(pod, "capgate"))) {
      assertThatThrownBy(
              () ->
                  vaultToken
                      .resources(AgentSession.class)
                      .inNamespace(ns)
                      .withName("fix-issue-42")
                      .get())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(401));
    }
  }

  /**
   * Placeholders: every agent container gets its opaque per-pod value (an agent's own GH_TOKEN from
   * a Secret is replaced), and the sidecar's Secret maps the credential to the same value.
   */
  @Test
  void credentialPlaceholdersReachTheAgentsAndTheSidecarsSecret() throws Exception {
    stack.createSession(
        ns, githubSession("with-placeholder", githubToken().placeholder("GH_TOKEN")).ttl("1h"));
    String podYaml =
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          labels: {capgate.dev/inject: "true", capgate.dev/session: with-placeholder}
        spec:
          securityContext: {runAsUser: 1000}
          initContainers:
          - name: setup
            image: registry.example/gh:2
          containers:
          - name: agent
            image: registry.example/agent:1.0
            env:
            - name: GH_TOKEN
              valueFrom: {secretKeyRef: {name: github-token, key: token}}
          - name: helper
            image: registry.example/helper:1.0
        """;
    Pod first = stack.createPod(ns, podYaml.formatted("agent-placeholder-1"));
    Pod second = stack.createPod(ns, podYaml.formatted("agent-placeholder-2"));

    String value = placeholderOf(first);
    assertThat(value).matches("capgate-ph-github-[a-z2-7]{32}");
    assertThat(placeholderOf(second))
        .as("a new placeholder for each pod")
        .matches("capgate-ph-github-[a-z2-7]{32}")
        .isNotEqualTo(value);
    for (Container c : PodInjector.agentContainers(first.getSpec())) {
      assertThat(c.getEnv())
          .as(c.getName())
          .filteredOn(e -> e.getName().equals("GH_TOKEN"))
          .singleElement()
          .satisfies(
              e -> {
                assertThat(e.getValue()).isEqualTo(value);
                assertThat(e.getValueFrom()).as("the agent's secretKeyRef is gone").isNull();
              });
    }
    assertThat(env(first.getSpec().getInitContainers().get(1))).doesNotContainKey("GH_TOKEN");

    Secret ca =
        client
            .secrets()
            .inNamespace(ns)
            .withName(first.getMetadata().getAnnotations().get(PodMarkers.CA))
            .get();
    String json =
        new String(
            Base64.getDecoder().decode(ca.getData().get("placeholders.json")),
            StandardCharsets.UTF_8);
    assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json))
        .isEqualTo(
            new com.fasterxml.jackson.databind.ObjectMapper()
                .createObjectNode()
                .put("github", value));
    // A session without placeholders: the key is there, empty.
    Pod plain = stack.createPod(ns, agentPod("agent-no-placeholder", "fix-issue-42", "default"));
    Secret plainCa =
        client
            .secrets()
            .inNamespace(ns)
            .withName(plain.getMetadata().getAnnotations().get(PodMarkers.CA))
            .get();
    assertThat(
            new String(
                Base64.getDecoder().decode(plainCa.getData().get("placeholders.json")),
                StandardCharsets.UTF_8))
        .isEqualTo("{}");
  }

  private static String placeholderOf(Pod pod) {
    return env(pod.getSpec().getContainers().getFirst()).get("GH_TOKEN");
  }

  @Test
  void aGenerateNamePodGetsACaOfItsOwn() {
    Pod pod =
        client
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withGenerateName("job-")
                    .withLabels(
                        Map.of("capgate.dev/inject", "true", "capgate.dev/session", "fix-issue-42"))
                    .endMetadata()
                    .withNewSpec()
                    .withNewSecurityContext()
                    .withRunAsUser(1000L)
                    .endSecurityContext()
                    .addNewContainer()
                    .withName("agent")
                    .withImage("registry.example/agent:1.0")
                    .endContainer()
                    .withRestartPolicy("Never")
                    .endSpec()
                    .build())
            .create();
    assertThat(pod.getMetadata().getName()).startsWith("job-");
    String caName = pod.getMetadata().getAnnotations().get(PodMarkers.CA);
    assertThat(stack.caSecret(ns, caName)).isNotNull();
  }

  /**
   * An injected pod submitted again (a copy of a stored one) carries its defaults and names a CA
   * that is already its original's: refused, never a second pod on one CA key, and no new CA.
   */
  @Test
  void resubmittingAnInjectedPodIsRefusedAndDoublesNothing() {
    Pod first = stack.createPod(ns, agentPod("agent-resubmit", "fix-issue-42", "default"));
    String caName = first.getMetadata().getAnnotations().get(PodMarkers.CA);
    await("CA handed over to the pod")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .secrets()
                            .inNamespace(ns)
                            .withName(caName)
                            .get()
                            .getMetadata()
                            .getOwnerReferences())
                    .extracting(o -> o.getKind())
                    .containsExactly("Pod"));
    int casBefore = stack.podCaSecrets(ns);
    Pod copy =
        new PodBuilder(first)
            .editMetadata()
            .withName("agent-resubmit-copy")
            .withUid(null)
            .withResourceVersion(null)
            .withCreationTimestamp(null)
            .withManagedFields(List.of())
            .endMetadata()
            .withStatus(null)
            .build();
    assertThatThrownBy(() -> client.resource(copy).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining(
            "is marked capgate.dev/status=injected but differs from what the capgate webhook injects"
                + " (its CA "
                + caName
                + " belongs to another pod)");
    assertThat(stack.podCaSecrets(ns)).isEqualTo(casBefore);
  }

  @Test
  void aDryRunStoresNoCa() {
    int before = stack.podCaSecrets(ns);
    ProcessResult result =
        stack.kube.kubectlWithInput(
            agentPod("agent-dry", "fix-issue-42", "default"),
            "create",
            "-n",
            ns,
            "--dry-run=server",
            "-o",
            "yaml",
            "-f",
            "-");
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout()).contains("capgate-proxy").contains("capgate.dev/status: injected");
    assertThat(stack.podCaSecrets(ns)).isEqualTo(before);
  }

  @Test
  void podsWithoutTheLabelAreNotTouched() {
    Pod plain =
        stack.createPod(
            ns,
            """
        apiVersion: v1
        kind: Pod
        metadata: {name: plain}
        spec:
          containers: [{name: app, image: registry.example/app:1}]
        """);
    assertThat(plain.getSpec().getInitContainers()).isEmpty();
    assertThat(plain.getSpec().getAutomountServiceAccountToken()).isNull();
    assertThat(plain.getMetadata().getAnnotations()).doesNotContainKey(PodMarkers.STATUS);
  }

  /** Selectors see labels only: a pod opting in by annotation alone is refused, not run bare. */
  @Test
  void anOptInByAnnotationOnlyIsRefused() {
    assertThatThrownBy(
            () ->
                stack.createPod(
                    ns,
                    """
        apiVersion: v1
        kind: Pod
        metadata:
          name: annotated-only
          annotations: {capgate.dev/inject: "true", capgate.dev/session: fix-issue-42}
        spec:
          containers: [{name: app, image: registry.example/app:1}]
        """))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("has the annotation capgate.dev/inject=true but not the label");
  }

  @Test
  void reinvocationAfterAnotherWebhookDoublesNothing() throws Exception {
    try (ContainerAddingWebhook other = new ContainerAddingWebhook(client)) {
      int casBefore = stack.podCaSecrets(ns);
      java.util.concurrent.atomic.AtomicInteger attempt =
          new java.util.concurrent.atomic.AtomicInteger();
      Pod pod =
          await("the other webhook registered")
              .atMost(Duration.ofSeconds(30))
              .ignoreExceptions()
              .until(
                  () ->
                      stack.createPod(
                          ns,
                          agentPod(
                                  "agent-reinvoked-" + attempt.incrementAndGet(),
                                  "fix-issue-42",
                                  "default")
                              .replace(
                                  "capgate.dev/inject: \"true\"",
                                  "capgate.dev/inject: \"true\"\n    "
                                      + ContainerAddingWebhook.LABEL
                                      + ": \"true\"")),
                  p -> p.getSpec().getContainers().size() == 2);
      assertThat(pod.getSpec().getInitContainers())
          .extracting(Container::getName)
          .containsExactly("capgate-init", "capgate-proxy");
      assertThat(pod.getSpec().getVolumes()).extracting(v -> v.getName()).doesNotHaveDuplicates();
      Container late = pod.getSpec().getContainers().get(1);
      assertThat(late.getName()).isEqualTo("late");
      assertThat(late.getVolumeMounts())
          .extracting(m -> m.getName())
          .containsExactly("capgate-trust");
      assertThat(env(late)).containsEntry("SSL_CERT_FILE", "/etc/capgate/trust/ca-bundle.pem");
      assertThat(other.calls.get()).isPositive();
      // One CA Secret per attempt (written once each answer is sent), none for the re-invocation.
      stack.awaitPodCaSecrets(ns, casBefore + attempt.get());
    }
  }

  @Test
  void rejectsAPodWithoutSession() {
    assertRefused(
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: no-session, labels: {capgate.dev/inject: "true"}}
        spec:
          containers: [{name: agent, image: registry.example/agent:1.0}]
        """,
        "names no session: add the label capgate.dev/session=<AgentSession name>");
  }

  @Test
  void rejectsAPodNamingAMissingSession() {
    assertRefused(
        agentPod("orphan", "no-such-session", "default"),
        "AgentSession \"no-such-session\" does not exist in namespace \"" + ns + "\"");
  }

  @Test
  void rejectsAPodOfAnExpiredSession() {
    stack.createSession(ns, githubSession("short-lived").ttl("1s"));
    await("session expired")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertRefused(
                    agentPod("too-late", "short-lived", "default"),
                    "AgentSession \"short-lived\" expired at"));
  }

  @Test
  void rejectsAPodOfAnInvalidSession() {
    stack.createSession(
        ns,
        session("dotted")
            .user("alice@example.com")
            .agent("coding-agent")
            .egress(rule("api").hosts("api.github.com").paths("/repos/../admin")));
    assertRefused(
        agentPod("invalid", "dotted", "default"),
        "AgentSession \"dotted\" is invalid: spec.egress[0].paths");
  }

  @Test
  void rejectsEphemeralContainersTargetingTheSidecar() {
    Pod pod = stack.createPod(ns, agentPod("agent-debugged", "fix-issue-42", "default"));
    assertThatThrownBy(
            () ->
                stack.addEphemeralContainer(
                    pod,
                    new EphemeralContainerBuilder()
                        .withName("debugger")
                        .withImage("busybox")
                        .withTargetContainerName("capgate-proxy")
                        .build()))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("ephemeral container \"debugger\" targets \"capgate-proxy\"");
  }

  static void assertRefused(String podYaml, String message) {
    stack.assertRefused(ns, podYaml, message);
  }

  private static Map<String, String> env(Container c) {
    Map<String, String> env = new java.util.LinkedHashMap<>();
    c.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
    return env;
  }

  private static X509Certificate certificate(byte[] pem) throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pem));
  }

  private static String sha256(byte[] bytes) {
    try {
      return java.util.HexFormat.of()
          .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
