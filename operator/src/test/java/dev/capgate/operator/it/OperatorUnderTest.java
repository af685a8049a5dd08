package dev.capgate.operator.it;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionBuilder.CredentialBuilder;
import dev.capgate.operator.CapgateOperator;
import dev.capgate.operator.ca.PodCaObjects;
import dev.capgate.operator.config.OperatorConfig;
import dev.capgate.operator.webhook.UnservedNamespacePolicy;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.OpenBaoServer;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The operator (reconciler + webhook) running in the test JVM against the shared real control plane
 * and OpenBao, registered with the real API server at https://127.0.0.1:&lt;port&gt;/mutate: every
 * admission in these tests is the real round trip. Started once per JVM.
 */
final class OperatorUnderTest {
  static final String OPERATOR_NAMESPACE = "capgate-system";
  static final String SIDECAR_IMAGE = "capgate/sidecar:it";
  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  /** The AgentSession CRD as generated (crds/): {@code kube.applyCrd(CRD)}. */
  static final Path CRD = Path.of("../crds/agentsessions.capgate.dev-v1.yml");

  /** The AgentApproval CRD as generated (crds/). */
  static final Path APPROVAL_CRD = Path.of("../crds/agentapprovals.capgate.dev-v1.yml");

  private static OperatorUnderTest shared;

  final KubeControlPlane kube;
  final OpenBaoServer bao;
  final KubernetesClient client;
  final CapgateOperator operator;

  static synchronized OperatorUnderTest shared() {
    if (shared == null) {
      shared = new OperatorUnderTest();
    }
    return shared;
  }

  private OperatorUnderTest() {
    kube = KubeControlPlane.shared();
    bao = OpenBaoServer.shared();
    client = kube.client();
    kube.applyCrd(CRD);
    kube.applyCrd(APPROVAL_CRD);
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(OPERATOR_NAMESPACE)
                .endMetadata()
                .build())
        .createOr(NonDeletingOperation::update);
    Map<String, String> env = loopbackEnv(OPERATOR_NAMESPACE, "capgate-injector", bao);
    env.put("CAPGATE_OPERATOR_VAULT_TOKEN", bao.rootToken());
    // Long enough that no test's CA is swept while its pod is being created.
    env.put("CAPGATE_ORPHANED_CA_GRACE", "2m");
    // Leader election on, as deployed; losing the Lease (an API server outage in some test) must
    // not end the test JVM the way it ends a replica.
    operator =
        CapgateOperator.start(
            client,
            OperatorConfig.fromEnv(env),
            () ->
                org.slf4j.LoggerFactory.getLogger(OperatorUnderTest.class)
                    .error("the shared operator lost its Lease"));
    Runtime.getRuntime().addShutdownHook(new Thread(operator::close, "operator-under-test-stop"));
  }

  /**
   * The settings of an operator started in this JVM against the shared stack, as this one is and as
   * the ITs that start one of their own do: its own namespace, the IT sidecar image, OpenBao's
   * address, the webhook, identity and metrics ports free ports on 127.0.0.1, and the API server
   * calling the webhook by URL there under the configuration {@code configuration}. A mutable map:
   * callers add what their operator differs in.
   */
  static Map<String, String> loopbackEnv(
      String namespace, String configuration, OpenBaoServer bao) {
    Map<String, String> env = new HashMap<>();
    env.put("CAPGATE_NAMESPACE", namespace);
    env.put("CAPGATE_SIDECAR_IMAGE", SIDECAR_IMAGE);
    env.put("CAPGATE_VAULT_ADDR", bao.address());
    env.put("CAPGATE_WEBHOOK_HOST", "127.0.0.1");
    env.put("CAPGATE_WEBHOOK_PORT", "0");
    env.put("CAPGATE_METRICS_PORT", "0");
    env.put("CAPGATE_IDENTITY_PORT", "0");
    env.put(
        "CAPGATE_WEBHOOK_URL", "https://127.0.0.1:" + OperatorConfig.PORT_PLACEHOLDER + "/mutate");
    env.put("CAPGATE_WEBHOOK_CERT_NAMES", "127.0.0.1");
    env.put("CAPGATE_WEBHOOK_CONFIGURATION", configuration);
    return env;
  }

  /**
   * Narrows the webhooks of {@code configuration} (an operator started apart) to {@code namespace}
   * alone, so that they see no other test's pods.
   */
  static void narrowWebhook(KubernetesClient admin, String configuration, String namespace) {
    admin
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(configuration)
        .edit(
            c -> {
              c.getWebhooks()
                  .forEach(
                      w ->
                          w.setNamespaceSelector(
                              new LabelSelectorBuilder()
                                  .addToMatchLabels("kubernetes.io/metadata.name", namespace)
                                  .build()));
              return c;
            });
  }

  /**
   * Removes what an operator started apart leaves in the shared API server once it is stopped: its
   * MutatingWebhookConfiguration {@code configuration}, and the unserved-namespaces policy and
   * binding it applies when it serves only some namespaces (left behind, that policy refuses every
   * later test's opted-in pods).
   */
  static void removeInstallation(KubernetesClient admin, String configuration) {
    admin
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(configuration)
        .delete();
    String policy = UnservedNamespacePolicy.name(configuration);
    admin
        .admissionRegistration()
        .v1()
        .validatingAdmissionPolicyBindings()
        .withName(policy)
        .delete();
    admin.admissionRegistration().v1().validatingAdmissionPolicies().withName(policy).delete();
  }

  AgentSession createSession(String namespace, AgentSessionBuilder session) {
    return client.resource(session.namespace(namespace).build()).create();
  }

  /**
   * Creates the pod and, if the webhook injected it, waits for its CA Secret, which the webhook
   * stores after answering (issue 13), as a kubelet waits for a Secret volume before starting it.
   */
  /**
   * Waits until creating {@code yaml} in {@code namespace} is refused by a validating admission
   * policy whose name starts with {@code policy} ({@code enforced}) or no longer is: a policy
   * created or deleted reaches the API server's policy cache a moment later. Real creates (a
   * webhook may refuse dry runs), each under a new name; a pod that gets through is deleted.
   */
  static void awaitPolicy(
      KubernetesClient client, String namespace, String yaml, String policy, boolean enforced) {
    String refusal = "ValidatingAdmissionPolicy '" + policy;
    java.util.concurrent.atomic.AtomicInteger attempt =
        new java.util.concurrent.atomic.AtomicInteger();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              Pod pod = SERIALIZATION.unmarshal(yaml, Pod.class);
              pod.getMetadata().setNamespace(namespace);
              pod.getMetadata()
                  .setName(pod.getMetadata().getName() + "-probe-" + attempt.incrementAndGet());
              try {
                client.resource(pod).create();
                client.resource(pod).withGracePeriod(0).delete();
                return !enforced;
              } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                return String.valueOf(e.getMessage()).contains(refusal) == enforced;
              }
            });
  }

  Pod createPod(String namespace, String yaml) {
    Pod pod = SERIALIZATION.unmarshal(yaml, Pod.class);
    pod.getMetadata().setNamespace(namespace);
    Pod created = client.resource(pod).create();
    String ca =
        created.getMetadata().getAnnotations() == null
            ? null
            : created.getMetadata().getAnnotations().get("capgate.dev/ca");
    if (ca != null) {
      caSecret(namespace, ca);
    }
    return created;
  }

  /** The CA Secret {@code name}, once the webhook has stored it (it does so after answering). */
  io.fabric8.kubernetes.api.model.Secret caSecret(String namespace, String name) {
    return await("CA Secret " + namespace + "/" + name + " stored")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> client.secrets().inNamespace(namespace).withName(name).get(), s -> s != null);
  }

  /**
   * The pod CA Secrets ({@code capgate.dev/component=pod-ca}) in {@code namespace} as listed now:
   * for "none minted" and "no more than before", which hold at once since nothing is written later.
   */
  int podCaSecrets(String namespace) {
    return client
        .secrets()
        .inNamespace(namespace)
        .withLabel(PodCaObjects.COMPONENT_LABEL, PodCaObjects.COMPONENT)
        .list()
        .getItems()
        .size();
  }

  /**
   * Waits until {@code namespace} holds {@code count} pod CA Secrets: the webhook writes each once
   * its answer is sent (operator/README, "Footprint"), so a count right after an admission can be
   * short by one.
   */
  void awaitPodCaSecrets(String namespace, int count) {
    await("" + count + " pod CA Secret(s) in " + namespace)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> podCaSecrets(namespace), n -> n == count);
  }

  /** Creating the pod fails, and the API server's message carries the webhook's reason. */
  void assertRefused(String namespace, String podYaml, String message) {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> createPod(namespace, podYaml))
        .isInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class)
        .hasMessageContaining("capgate refused pod")
        .hasMessageContaining(message);
  }

  /** The ServiceAccount {@code name} in {@code namespace}, for agent pods to run as. */
  void createServiceAccount(String namespace, String name) {
    kube.newServiceAccount(namespace, name);
  }

  /**
   * A token of {@code pod}'s ServiceAccount bound to the pod, as the kubelet mints one for a
   * projected serviceAccountToken source (3607 s); {@code audience} null means the API server's.
   */
  String podBoundToken(Pod pod, String audience) {
    return client
        .serviceAccounts()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getSpec().getServiceAccountName())
        .tokenRequest(
            new TokenRequestBuilder()
                .withNewSpec()
                .withAudiences(audience == null ? List.of() : List.of(audience))
                .withExpirationSeconds(3607L)
                .withNewBoundObjectRef()
                .withApiVersion("v1")
                .withKind("Pod")
                .withName(pod.getMetadata().getName())
                .withUid(pod.getMetadata().getUid())
                .endBoundObjectRef()
                .endSpec()
                .build())
        .getStatus()
        .getToken();
  }

  /**
   * Adds {@code container} to the running {@code pod} through the ephemeralcontainers subresource,
   * as {@code kubectl debug} does; the webhook sees it as an UPDATE of that subresource.
   */
  Pod addEphemeralContainer(Pod pod, EphemeralContainer container) {
    return client
        .pods()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getMetadata().getName())
        .ephemeralContainers()
        .edit(
            p ->
                new PodBuilder(p).editSpec().addToEphemeralContainers(container).endSpec().build());
  }

  AgentSession session(String namespace, String name) {
    return client.resources(AgentSession.class).inNamespace(namespace).withName(name).get();
  }

  /** A session intercepting api.github.com (with a credential) and passing pypi.org through. */
  static AgentSessionBuilder githubSession(String name) {
    return githubSession(name, githubToken());
  }

  /** The same, {@code github} being the credential the api.github.com rule injects. */
  static AgentSessionBuilder githubSession(String name, CredentialBuilder github) {
    return AgentSessionBuilder.session(name)
        .user("alice@example.com")
        .agent("coding-agent")
        .project("payments")
        .vaultRole("capgate-agent")
        .credential(github)
        .egress(
            rule("github-api")
                .hosts("api.github.com", "*.githubusercontent.com")
                .methods(GET, POST)
                .paths("/repos/acme/repo-a", "/repos/acme/repo-a/**")
                .credential("github"),
            rule("packages").hosts("pypi.org", "files.pythonhosted.org").passthrough());
  }

  /** Alice's GitHub token from KV, as a bearer token. */
  static CredentialBuilder githubToken() {
    return kv2("github", "secret/data/github/{{user}}", "token").bearer();
  }

  /**
   * An opted-in pod of the session, running as {@code serviceAccount} and uid 1000 (capgate wants a
   * uid set).
   */
  static String agentPod(String name, String session, String serviceAccount) {
    return """
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          labels:
            capgate.dev/inject: "true"
            capgate.dev/session: %s
        spec:
          serviceAccountName: %s
          securityContext: {runAsUser: 1000}
          containers:
          - name: agent
            image: registry.example/agent:1.0
        """
        .formatted(name, session, serviceAccount);
  }

  static String resource(String path) {
    try (InputStream in = OperatorUnderTest.class.getResourceAsStream(path)) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
