package dev.capgate.operator.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.lifecycle.InstallationCleanup;
import dev.capgate.operator.lifecycle.SessionDrain;
import dev.capgate.operator.lifecycle.UninstallSettings;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The chart's uninstall hooks (operator image, modes {@code drain-sessions} and {@code clean-up})
 * against the real API server, with the real operator revoking: the drain leaves no session of the
 * installation behind and none of another's touched, and fails, naming the session, when one cannot
 * be revoked; the clean-up removes what the operator created and keeps what is not its own or still
 * in use. LifecycleE2E runs both through {@code helm uninstall} on the real cluster.
 */
class UninstallHooksIT {
  final OperatorUnderTest it = OperatorUnderTest.shared();

  @Test
  void drainDeletesTheInstallationsSessionsAndWaitsForTheirRevocation() {
    String mine = it.kube.newNamespace("drain");
    String theirs = it.kube.newNamespace("other");
    it.createSession(mine, OperatorUnderTest.githubSession("a"));
    it.createSession(mine, OperatorUnderTest.githubSession("b"));
    it.createSession(theirs, OperatorUnderTest.githubSession("c"));
    awaitFinalizer(mine, "a");
    awaitFinalizer(mine, "b");

    long t0 = System.nanoTime();
    int exit = new SessionDrain(it.client, settings("unused", List.of(mine), "60s")).run();
    System.out.printf(
        "drain of 2 sessions: exit %d in %d ms%n", exit, (System.nanoTime() - t0) / 1_000_000);

    assertThat(exit).isZero();
    assertThat(sessions(mine)).as("no session left behind a finalizer").isEmpty();
    assertThat(sessions(theirs)).as("another installation's session untouched").hasSize(1);
  }

  @Test
  void drainFailsAndNamesTheSessionWhenRevocationDoesNotFinish() {
    String ns = it.kube.newNamespace("stuck");
    it.createSession(ns, OperatorUnderTest.githubSession("held"));
    awaitFinalizer(ns, "held");
    // A finalizer nobody removes stands for a revocation that cannot finish (Vault down). A JSON
    // patch: no resourceVersion to race the operator's status writes with.
    held(ns)
        .patch(
            io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
            "[{\"op\":\"add\",\"path\":\"/metadata/finalizers/-\",\"value\":\"example.com/hold\"}]");
    try {
      int exit = new SessionDrain(it.client, settings("unused", List.of(ns), "2s")).run();
      assertThat(exit).as("the hook fails, so helm uninstall stops").isEqualTo(1);
      assertThat(sessions(ns)).hasSize(1);
      assertThat(sessions(ns).getFirst().getMetadata().getDeletionTimestamp()).isNotNull();
    } finally {
      for (int attempt = 0; attempt < 10 && held(ns).get() != null; attempt++) {
        try {
          held(ns)
              .edit(
                  s -> {
                    s.getMetadata().getFinalizers().remove("example.com/hold");
                    return s;
                  });
          break;
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
        }
      }
    }
  }

  @Test
  void cleanUpRemovesWhatTheOperatorCreatedAndKeepsTheRest() {
    String release = it.kube.newNamespace("release");
    String agents = it.kube.newNamespace("agents");
    Map<String, String> capgates = Map.of("app.kubernetes.io/managed-by", "capgate");
    secret(release, "rel-session-signer", capgates);
    secret(release, "rel-webhook-tls", Map.of("app.kubernetes.io/managed-by", "cert-manager"));
    it.client
        .leases()
        .inNamespace(release)
        .resource(
            new LeaseBuilder()
                .withNewMetadata()
                .withName("rel-operator-leader")
                .endMetadata()
                .withNewSpec()
                .withHolderIdentity("gone")
                .endSpec()
                .build())
        .create();
    Map<String, String> trust =
        Map.of("capgate.dev/component", "trust-roots", "app.kubernetes.io/managed-by", "capgate");
    configMap(agents, "capgate-trust-roots-0000000001", trust);
    configMap(agents, "capgate-trust-roots-0000000002", trust);
    it.client
        .pods()
        .inNamespace(agents)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("still-running")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("agent")
                .withImage("capgate.local/agent:dev")
                .endContainer()
                .addNewVolume()
                .withName("roots")
                .withNewConfigMap()
                .withName("capgate-trust-roots-0000000002")
                .endConfigMap()
                .endVolume()
                .endSpec()
                .build())
        .create();

    int exit =
        new InstallationCleanup(
                it.client,
                new UninstallSettings(
                    release,
                    List.of(agents),
                    Duration.ofSeconds(10),
                    "app.kubernetes.io/instance=rel,app.kubernetes.io/component=operator",
                    "rel-session-signer",
                    "rel-webhook-tls",
                    "rel-operator-leader",
                    ""))
            .run();

    assertThat(exit).isZero();
    assertThat(it.client.secrets().inNamespace(release).withName("rel-session-signer").get())
        .as("the session-signing key is gone")
        .isNull();
    assertThat(it.client.secrets().inNamespace(release).withName("rel-webhook-tls").get())
        .as("a certificate Secret someone else manages stays")
        .isNotNull();
    assertThat(it.client.leases().inNamespace(release).withName("rel-operator-leader").get())
        .isNull();
    assertThat(
            it.client
                .configMaps()
                .inNamespace(agents)
                .withName("capgate-trust-roots-0000000001")
                .get())
        .as("unused trust roots removed")
        .isNull();
    assertThat(
            it.client
                .configMaps()
                .inNamespace(agents)
                .withName("capgate-trust-roots-0000000002")
                .get())
        .as("trust roots a pod still mounts stay")
        .isNotNull();
  }

  @Test
  void cleanUpWaitsForTheOperatorPodsAndRemovesNothingWhileTheyRun() {
    String release = it.kube.newNamespace("busy");
    secret(release, "rel-session-signer", Map.of("app.kubernetes.io/managed-by", "capgate"));
    it.client
        .pods()
        .inNamespace(release)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("operator")
                .withLabels(Map.of("app.kubernetes.io/instance", "rel"))
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("operator")
                .withImage("capgate.local/operator:dev")
                .endContainer()
                .endSpec()
                .build())
        .create();

    int exit =
        new InstallationCleanup(
                it.client,
                new UninstallSettings(
                    release,
                    List.of(release),
                    Duration.ofSeconds(2),
                    "app.kubernetes.io/instance=rel",
                    "rel-session-signer",
                    "rel-webhook-tls",
                    "",
                    ""))
            .run();

    assertThat(exit).isEqualTo(1);
    assertThat(it.client.secrets().inNamespace(release).withName("rel-session-signer").get())
        .isNotNull();
  }

  /**
   * The chart's hooks as rendered: a pre-delete Job {@code drain-sessions} and a post-delete Job
   * {@code clean-up} whose environment the operator reads, the operator selector the Deployment's
   * own; and their RBAC suffices: both modes run as the hook's ServiceAccount (impersonated) with
   * the Job's environment, against the real API server, and do their work without a 403.
   */
  @Test
  void theChartsHooksRunAsTheirOwnServiceAccountWithTheJobsEnvironment() {
    String release = it.kube.newNamespace("hookrel");
    String agents = it.kube.newNamespace("hookagents");
    String rendered =
        HelmChartIT.helm(
                "template",
                "rel",
                HelmChartIT.CHART.toString(),
                "--namespace",
                release,
                "--kube-version",
                "1.35.0",
                "--set",
                "vault.address=" + HelmChartIT.VAULT,
                "--set",
                "watchNamespaces={" + agents + "}",
                "--show-only",
                "templates/uninstall-hooks.yaml",
                "--show-only",
                "templates/deployment.yaml")
            .orThrow()
            .stdout();
    List<io.fabric8.kubernetes.api.model.HasMetadata> objects = new java.util.ArrayList<>();
    for (String doc : rendered.split("(?m)^---\\s*$")) {
      if (doc.lines().anyMatch(l -> l.startsWith("kind:"))) {
        objects.add(
            (io.fabric8.kubernetes.api.model.HasMetadata)
                OperatorUnderTest.SERIALIZATION.unmarshal(doc));
      }
    }
    var deployment =
        objects.stream()
            .filter(io.fabric8.kubernetes.api.model.apps.Deployment.class::isInstance)
            .map(io.fabric8.kubernetes.api.model.apps.Deployment.class::cast)
            .findFirst()
            .orElseThrow();
    Map<String, Map<String, String>> jobs = new java.util.TreeMap<>();
    for (var o : objects) {
      if (o instanceof io.fabric8.kubernetes.api.model.batch.v1.Job job) {
        var container = job.getSpec().getTemplate().getSpec().getContainers().getFirst();
        Map<String, String> env = new java.util.HashMap<>();
        container.getEnv().forEach(v -> env.put(v.getName(), v.getValue()));
        jobs.put(
            job.getMetadata().getAnnotations().get("helm.sh/hook") + " " + container.getArgs(),
            env);
        assertThat(container.getImage())
            .isEqualTo(
                deployment.getSpec().getTemplate().getSpec().getContainers().getFirst().getImage());
      } else if (!(o instanceof io.fabric8.kubernetes.api.model.apps.Deployment)) {
        assertThat(o.getMetadata().getAnnotations())
            .containsEntry("helm.sh/hook", "pre-delete,post-delete");
        it.client.resource(o).create();
      }
    }
    assertThat(jobs).containsOnlyKeys("pre-delete [drain-sessions]", "post-delete [clean-up]");
    UninstallSettings settings = UninstallSettings.fromEnv(jobs.get("post-delete [clean-up]"));
    assertThat(settings.watchNamespaces()).containsExactly(agents);
    assertThat(settings.operatorSelector().split(","))
        .containsExactlyInAnyOrderElementsOf(
            deployment.getSpec().getSelector().getMatchLabels().entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .toList());
    assertThat(UninstallSettings.fromEnv(jobs.get("pre-delete [drain-sessions]")))
        .isEqualTo(settings);

    it.createSession(agents, OperatorUnderTest.githubSession("s"));
    awaitFinalizer(agents, "s");
    secret(release, settings.signerSecret(), Map.of("app.kubernetes.io/managed-by", "capgate"));
    configMap(
        agents,
        "capgate-trust-roots-00000000ff",
        Map.of("capgate.dev/component", "trust-roots", "app.kubernetes.io/managed-by", "capgate"));
    String serviceAccount =
        "system:serviceaccount:"
            + release
            + ":"
            + objects.stream()
                .filter(io.fabric8.kubernetes.api.model.ServiceAccount.class::isInstance)
                .findFirst()
                .orElseThrow()
                .getMetadata()
                .getName();
    try (var asHook =
        new io.fabric8.kubernetes.client.KubernetesClientBuilder()
            .withConfig(
                new io.fabric8.kubernetes.client.ConfigBuilder(it.client.getConfiguration())
                    .withImpersonateUsername(serviceAccount)
                    .build())
            .build()) {
      assertThat(new SessionDrain(asHook, settings).run()).isZero();
      assertThat(new InstallationCleanup(asHook, settings).run()).isZero();
    }
    assertThat(sessions(agents)).isEmpty();
    assertThat(it.client.secrets().inNamespace(release).withName(settings.signerSecret()).get())
        .isNull();
    assertThat(
            it.client
                .configMaps()
                .inNamespace(agents)
                .withName("capgate-trust-roots-00000000ff")
                .get())
        .isNull();
  }

  private UninstallSettings settings(String release, List<String> namespaces, String timeout) {
    return UninstallSettings.fromEnv(
        Map.of(
            "CAPGATE_NAMESPACE",
            release,
            "CAPGATE_WATCH_NAMESPACES",
            String.join(",", namespaces),
            "CAPGATE_UNINSTALL_TIMEOUT",
            timeout,
            "CAPGATE_OPERATOR_SELECTOR",
            "app.kubernetes.io/instance=rel",
            "CAPGATE_SESSION_SIGNER_SECRET",
            "rel-session-signer",
            "CAPGATE_WEBHOOK_CERT_SECRET",
            "rel-webhook-tls"));
  }

  private io.fabric8.kubernetes.client.dsl.Resource<AgentSession> held(String namespace) {
    return it.client.resources(AgentSession.class).inNamespace(namespace).withName("held");
  }

  private List<AgentSession> sessions(String namespace) {
    return it.client.resources(AgentSession.class).inNamespace(namespace).list().getItems();
  }

  private void awaitFinalizer(String namespace, String name) {
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              AgentSession s = it.session(namespace, name);
              return s != null
                  && s.getMetadata().getFinalizers().contains("capgate.dev/revocation");
            });
  }

  private void secret(String namespace, String name, Map<String, String> labels) {
    it.client
        .secrets()
        .inNamespace(namespace)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(labels)
                .endMetadata()
                .addToStringData("k", "not a real key")
                .build())
        .create();
  }

  private void configMap(String namespace, String name, Map<String, String> labels) {
    it.client
        .configMaps()
        .inNamespace(namespace)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(labels)
                .endMetadata()
                .addToData("roots.pem", "x")
                .build())
        .create();
  }
}
