package dev.capgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.SelfSubjectReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RealStackExtension.class)
class KubeControlPlaneIT {
  private final KubeControlPlane kube;
  private final KubernetesClient client;

  KubeControlPlaneIT(KubeControlPlane kube) {
    this.kube = kube;
    this.client = kube.client();
  }

  @Test
  void namespaceIsCreatedAndFinalizedByTheNamespaceControllerOnDelete() {
    String ns = kube.newNamespace("lifecycle");

    assertThat(ns).matches("lifecycle-[a-z0-9]{6}");
    var namespace = client.namespaces().withName(ns).get();
    assertThat(namespace.getStatus().getPhase()).isEqualTo("Active");
    // The "kubernetes" finalizer is removed only by kube-controller-manager's namespace controller.
    assertThat(namespace.getSpec().getFinalizers()).contains("kubernetes");
    client.configMaps().inNamespace(ns).resource(configMap("content", Map.of("k", "v"))).create();

    client.namespaces().withName(ns).delete();

    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> client.namespaces().withName(ns).get() == null);
  }

  @Test
  void serviceAccountTokenForTheVaultAudiencePassesARealTokenReview() {
    String ns = kube.newNamespace("tokens");
    createServiceAccount(ns, "agent");

    String token = kube.serviceAccountToken(ns, "agent", Duration.ofMinutes(10), "vault");

    Map<?, ?> claims = jwtClaims(token);
    assertThat(claims.get("iss")).isEqualTo(kube.serviceAccountIssuer());
    assertThat(claims.get("aud")).asString().contains("vault");
    TokenReview review = review(token, "vault");
    assertThat(review.getStatus().getAuthenticated()).isTrue();
    assertThat(review.getStatus().getUser().getUsername())
        .isEqualTo("system:serviceaccount:" + ns + ":agent");
    assertThat(review.getStatus().getAudiences()).containsExactly("vault");

    // Negative controls: the same token for another audience, and a forged signature.
    assertThat(review(token, "someone-else").getStatus().getAuthenticated())
        .isNotEqualTo(Boolean.TRUE);
    assertThat(review(forgeSignature(token), "vault").getStatus().getAuthenticated())
        .isNotEqualTo(Boolean.TRUE);
  }

  @Test
  void rbacDeniesABareServiceAccountListingSecrets() {
    String ns = kube.newNamespace("rbac");
    createServiceAccount(ns, "bare");
    client
        .secrets()
        .inNamespace(ns)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("s")
                .endMetadata()
                .addToStringData("password", "hunter2")
                .build())
        .create();
    String token = kube.serviceAccountToken(ns, "bare", Duration.ofMinutes(10));

    try (KubernetesClient bare = kube.clientWithToken(token)) {
      // Authenticated (so a denial below is RBAC's, not a bad token's).
      SelfSubjectReview whoami =
          bare.authentication().v1().selfSubjectReviews().create(new SelfSubjectReview());
      assertThat(whoami.getStatus().getUserInfo().getUsername())
          .isEqualTo("system:serviceaccount:" + ns + ":bare");

      assertThatThrownBy(() -> bare.secrets().inNamespace(ns).list())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    }
    // The admin sees it: the secret is there, the service account just may not list it.
    assertThat(client.secrets().inNamespace(ns).list().getItems())
        .extracting(s -> s.getMetadata().getName())
        .contains("s");
  }

  @Test
  void garbageCollectorDeletesAConfigMapWhoseOwnerWasDeleted() {
    String ns = kube.newNamespace("gc");
    ConfigMap owner =
        client.configMaps().inNamespace(ns).resource(configMap("owner", Map.of())).create();
    ConfigMap dependent = configMap("dependent", Map.of());
    dependent
        .getMetadata()
        .setOwnerReferences(
            List.of(
                new OwnerReferenceBuilder()
                    .withApiVersion("v1")
                    .withKind("ConfigMap")
                    .withName("owner")
                    .withUid(owner.getMetadata().getUid())
                    .build()));
    client.configMaps().inNamespace(ns).resource(dependent).create();
    client.configMaps().inNamespace(ns).resource(configMap("bystander", Map.of())).create();

    client.configMaps().inNamespace(ns).withName("owner").delete();

    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> client.configMaps().inNamespace(ns).withName("dependent").get() == null);
    assertThat(client.configMaps().inNamespace(ns).withName("bystander").get()).isNotNull();
  }

  @Test
  void kubectlTalksToThisCluster() {
    String ns = kube.newNamespace("kubectl");

    ProcessResult result = kube.kubectl("get", "ns", "-o", "name");

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout())
        .contains("namespace/default", "namespace/kube-system", "namespace/" + ns);

    ProcessResult missing = kube.kubectl("get", "ns", "does-not-exist");
    assertThat(missing.exitCode()).isNotZero();
    assertThat(missing.stderr()).contains("NotFound");

    ProcessResult applied =
        kube.kubectlWithInput(
            """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: from-stdin}
                data: {hello: world}
                """,
            "apply",
            "-n",
            ns,
            "-f",
            "-");
    assertThat(applied.exitCode()).as(applied.stderr()).isZero();
    assertThat(client.configMaps().inNamespace(ns).withName("from-stdin").get().getData())
        .containsEntry("hello", "world");
  }

  @Test
  void adminKubeconfigLoadsInFabric8AsOperatorsLoadIt() throws Exception {
    Config config = Config.fromKubeconfig(Files.readString(kube.kubeconfig()));

    try (KubernetesClient fromFile = new KubernetesClientBuilder().withConfig(config).build()) {
      SelfSubjectReview whoami =
          fromFile.authentication().v1().selfSubjectReviews().create(new SelfSubjectReview());
      assertThat(whoami.getStatus().getUserInfo().getGroups()).contains("system:masters");
      assertThat(fromFile.namespaces().withName("kube-system").get()).isNotNull();
    }
    assertThat(Files.readString(kube.kubeconfig())).contains(kube.url());
  }

  @Test
  void apiServerStopsAndStartsOnTheSamePortWithTheSameData() {
    String ns = kube.newNamespace("outage");
    client
        .configMaps()
        .inNamespace(ns)
        .resource(configMap("survivor", Map.of("state", "kept")))
        .create();
    String url = kube.url();

    long stopStart = System.nanoTime();
    kube.stopApiServer();
    System.out.printf(
        "kube-apiserver stop took %d ms%n", (System.nanoTime() - stopStart) / 1_000_000);
    try {
      assertThat(kube.isApiServerRunning()).isFalse();
      assertThatThrownBy(() -> client.configMaps().inNamespace(ns).withName("survivor").get())
          .isInstanceOf(KubernetesClientException.class);
      assertThat(kube.kubectl("get", "ns").exitCode()).isNotZero();
    } finally {
      long t0 = System.nanoTime();
      kube.startApiServer();
      System.out.printf(
          "kube-apiserver restart took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    assertThat(kube.url()).isEqualTo(url);
    assertThat(client.configMaps().inNamespace(ns).withName("survivor").get().getData())
        .containsEntry("state", "kept");
    assertThat(kube.kubectl("get", "configmap", "survivor", "-n", ns).exitCode()).isZero();
  }

  private void createServiceAccount(String ns, String name) {
    client
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  private TokenReview review(String token, String audience) {
    return client
        .authentication()
        .v1()
        .tokenReviews()
        .create(
            new TokenReviewBuilder()
                .withNewSpec()
                .withToken(token)
                .withAudiences(audience)
                .endSpec()
                .build());
  }

  private static ConfigMap configMap(String name, Map<String, String> data) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withData(data)
        .build();
  }

  private static Map<?, ?> jwtClaims(String jwt) {
    String payload =
        new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8);
    return Serialization.unmarshal(payload, Map.class);
  }

  /** Same header and claims, different signature bytes. */
  private static String forgeSignature(String jwt) {
    String[] parts = jwt.split("\\.");
    byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
    signature[signature.length / 2] ^= 0x01;
    return parts[0]
        + "."
        + parts[1]
        + "."
        + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
  }
}
