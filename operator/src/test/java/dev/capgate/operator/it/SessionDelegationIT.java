package dev.capgate.operator.it;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.operator.webhook.DelegationPolicy;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.Pki;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Invariant 10 on the real API server: {@code spec.user} names someone other than the requester
 * only with the verb {@code delegate}, checked by the API server's authorizer in the
 * ValidatingAdmissionPolicy the operator applies ({@link DelegationPolicy}; the chart renders the
 * same one, HelmChartIT compares them). The requesters are real identities: users with client
 * certificates signed by the cluster CA, and a service account with its own token.
 */
class SessionDelegationIT {
  static final String ALICE = "alice@example.com";
  static final String BOB = "bob@example.com";
  static final String CAROL = "carol@example.com";

  static OperatorUnderTest stack;
  static KubernetesClient admin;
  static String namespace;
  static String otherNamespace;
  static KubernetesClient bob;
  static KubernetesClient platform;
  static KubernetesClient anyonesPlatform;
  static String chartRole;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    admin = stack.client;
    assertThat(
            admin
                .admissionRegistration()
                .v1()
                .validatingAdmissionPolicies()
                .withName(DelegationPolicy.NAME)
                .get())
        .as("the operator (manageConfiguration) applied the delegation policy")
        .isNotNull();
    namespace = stack.kube.newNamespace("delegation");
    otherNamespace = stack.kube.newNamespace("delegation-other");

    // Who may write sessions at all (the ordinary verbs), in both namespaces: bob, and two
    // platform service accounts.
    for (String ns : List.of(namespace, otherNamespace)) {
      stack.kube.grant(
          ns,
          "session-author",
          List.of(
              new PolicyRuleBuilder()
                  .withApiGroups("capgate.dev")
                  .withResources("agentsessions")
                  .withVerbs("create", "get", "list", "update", "patch", "delete")
                  .build()),
          KubeControlPlane.user(BOB),
          KubeControlPlane.serviceAccount(namespace, "platform"),
          KubeControlPlane.serviceAccount(namespace, "anyones-platform"));
    }
    for (String account : List.of("platform", "anyones-platform")) {
      admin
          .serviceAccounts()
          .inNamespace(namespace)
          .resource(
              new ServiceAccountBuilder().withNewMetadata().withName(account).endMetadata().build())
          .create();
    }

    // "platform" delegates for alice only: a Role with resourceNames, as charts/capgate/README.md
    // shows.
    stack.kube.grant(
        namespace,
        "delegate-for-alice",
        List.of(
            new PolicyRuleBuilder()
                .withApiGroups("capgate.dev")
                .withResources("agentsessions")
                .withResourceNames(ALICE)
                .withVerbs(DelegationPolicy.VERB)
                .build()),
        KubeControlPlane.serviceAccount(namespace, "platform"));

    // "anyones-platform" gets the chart's own ClusterRole, as rendered, by a RoleBinding in one
    // namespace.
    ClusterRole delegator =
        (ClusterRole)
            OperatorUnderTest.SERIALIZATION.unmarshal(
                HelmChartIT.helm(
                        "template",
                        "capgate",
                        HelmChartIT.CHART.toString(),
                        "--kube-version",
                        "1.35.0",
                        "--set",
                        "vault.address=" + HelmChartIT.VAULT,
                        "--set",
                        "fullnameOverride=" + namespace,
                        "--show-only",
                        "templates/session-delegator-clusterrole.yaml")
                    .orThrow()
                    .stdout());
    chartRole = delegator.getMetadata().getName();
    assertThat(chartRole).isEqualTo(namespace + "-session-delegator");
    admin.rbac().clusterRoles().resource(delegator).create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(namespace)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("anyones-platform-delegates")
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole")
                .withName(chartRole)
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("anyones-platform")
                .withNamespace(namespace)
                .endSubject()
                .build())
        .create();

    bob = asUser(BOB);
    platform =
        stack.kube.clientWithToken(
            stack.kube.serviceAccountToken(namespace, "platform", Duration.ofHours(1)));
    anyonesPlatform =
        stack.kube.clientWithToken(
            stack.kube.serviceAccountToken(namespace, "anyones-platform", Duration.ofHours(1)));

    // A new policy takes effect in the API server shortly after it is stored (an informer); the
    // operator applied it at start, so this is normally true at once.
    await("the delegation policy is enforced")
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () ->
                refusal(() -> bob.resource(session("probe", ALICE, namespace)).dryRun().create())
                    != null);
  }

  @AfterAll
  static void stop() {
    if (chartRole != null) {
      admin.rbac().clusterRoles().withName(chartRole).delete();
    }
    for (KubernetesClient c : new KubernetesClient[] {bob, platform, anyonesPlatform}) {
      if (c != null) {
        c.close();
      }
    }
  }

  @Test
  void bobCannotNameAliceButMayNameHimself() {
    String refusal =
        refusal(() -> bob.resource(session("bob-for-alice", ALICE, namespace)).create());
    System.out.println("[evidence] bob creating a session for alice: " + refusal);
    assertThat(refusal)
        .contains("ValidatingAdmissionPolicy '" + DelegationPolicy.NAME + "'")
        .contains(
            "user '"
                + BOB
                + "' may not name '"
                + ALICE
                + "' as the spec.user of an AgentSession in namespace "
                + namespace)
        .contains(
            "you need the verb delegate on agentsessions.capgate.dev with resourceName '"
                + ALICE
                + "'");
    assertThat(
            admin
                .resources(AgentSession.class)
                .inNamespace(namespace)
                .withName("bob-for-alice")
                .get())
        .isNull();

    AgentSession own = bob.resource(session("bob-for-bob", BOB, namespace)).create();
    assertThat(own.getSpec().user()).isEqualTo(BOB);
  }

  @Test
  void aPlatformWithResourceNamesDelegatesForThoseUsersOnly() {
    AgentSession forAlice =
        platform.resource(session("platform-for-alice", ALICE, namespace)).create();
    assertThat(forAlice.getSpec().user()).isEqualTo(ALICE);

    String refusal =
        refusal(() -> platform.resource(session("platform-for-carol", CAROL, namespace)).create());
    System.out.println(
        "[evidence] a platform allowed to delegate for alice only, creating for carol: " + refusal);
    assertThat(refusal)
        .contains(
            "user 'system:serviceaccount:" + namespace + ":platform' may not name '" + CAROL + "'");

    // Its own name is never a delegation (the policy's first clause), whatever its roles say.
    String self = "system:serviceaccount:" + namespace + ":platform";
    assertThat(
            platform
                .resource(session("platform-itself", self, namespace))
                .create()
                .getSpec()
                .user())
        .isEqualTo(self);
  }

  @Test
  void theChartsDelegatorRoleDelegatesForAnyoneWhereItIsBoundOnly() {
    assertThat(
            anyonesPlatform
                .resource(session("for-carol", CAROL, namespace))
                .create()
                .getSpec()
                .user())
        .isEqualTo(CAROL);
    assertThat(
            anyonesPlatform
                .resource(session("for-alice", ALICE, namespace))
                .create()
                .getSpec()
                .user())
        .isEqualTo(ALICE);

    // Bound in one namespace: the ordinary verbs hold in the other one, delegation does not.
    String refusal =
        refusal(
            () -> anyonesPlatform.resource(session("elsewhere", CAROL, otherNamespace)).create());
    assertThat(refusal)
        .contains("may not name '" + CAROL + "'")
        .contains("in namespace " + otherNamespace);

    // Bound cluster-wide, it holds in the other namespace too.
    admin
        .rbac()
        .clusterRoleBindings()
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName(chartRole)
                .endMetadata()
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole")
                .withName(chartRole)
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("anyones-platform")
                .withNamespace(namespace)
                .endSubject()
                .build())
        .create();
    try {
      await("the ClusterRoleBinding is in the authorizer's cache")
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () ->
                  anyonesPlatform.resource(session("elsewhere", CAROL, otherNamespace)).create()
                      != null);
    } finally {
      admin.rbac().clusterRoleBindings().withName(chartRole).delete();
    }
  }

  @Test
  void updatesKeepTheUserAndAnyoneWhoMayUpdateMayMakeThem() {
    platform.resource(session("kept", ALICE, namespace)).create();

    // bob may update sessions (his Role), and one for alice too as long as spec.user stays:
    // that is no delegation (the operator's finalizer and status updates are such updates).
    AgentSession labelled =
        bob.resources(AgentSession.class)
            .inNamespace(namespace)
            .withName("kept")
            .patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"labels\":{\"team\":\"payments\"}}}");
    assertThat(labelled.getMetadata().getLabels()).containsEntry("team", "payments");

    // Changing spec.user is refused, even for someone who may delegate for the new user.
    bob.resource(session("bobs", BOB, namespace)).create();
    String changed =
        refusal(
            () ->
                anyonesPlatform
                    .resources(AgentSession.class)
                    .inNamespace(namespace)
                    .withName("bobs")
                    .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"user\":\"" + CAROL + "\"}}"));
    System.out.println("[evidence] changing spec.user: " + changed);
    assertThat(changed).contains("spec.user is immutable");
    assertThat(
            admin
                .resources(AgentSession.class)
                .inNamespace(namespace)
                .withName("bobs")
                .get()
                .getSpec()
                .user())
        .isEqualTo(BOB);
  }

  /** The API server's message when {@code call} is refused; null when it succeeded. */
  private static String refusal(Runnable call) {
    try {
      call.run();
      return null;
    } catch (KubernetesClientException e) {
      assertThat(e.getCode()).as(e.getMessage()).isIn(403, 422);
      return e.getMessage();
    }
  }

  private static AgentSession session(String name, String user, String ns) {
    return AgentSessionBuilder.session(name)
        .namespace(ns)
        .user(user)
        .agent("coding-agent")
        .egress(rule("packages").hosts("pypi.org").passthrough())
        .build();
  }

  /**
   * A client authenticated as {@code user} by a client certificate the cluster CA signed (CN =
   * user).
   */
  private static KubernetesClient asUser(String user) {
    Pki.Issued cert = stack.kube.pki().issueClient(user);
    return new KubernetesClientBuilder()
        .withConfig(
            new ConfigBuilder(io.fabric8.kubernetes.client.Config.empty())
                .withMasterUrl(stack.kube.url())
                .withCaCertData(b64(stack.kube.caCertPem()))
                .withClientCertData(b64(cert.certPem()))
                .withClientKeyData(b64(cert.keyPem()))
                .withClientKeyAlgo("EC")
                .withRequestRetryBackoffLimit(2)
                .withRequestRetryBackoffInterval(200)
                .build())
        .withHttpClientFactory(new JdkHttpClientFactory())
        .build();
  }

  private static String b64(String pem) {
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
  }
}
