package dev.capgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.response.AuthResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RealStackExtension.class)
class OpenBaoServerIT {
  private final OpenBaoServer bao;

  OpenBaoServerIT(OpenBaoServer bao) {
    this.bao = bao;
  }

  @Test
  void vaultDriverWritesAndReadsAKvV2Secret() throws Exception {
    String mount = bao.newKvMount();
    Vault vault = bao.rootClient();

    vault.logical().write(mount + "/github/alice", Map.of("token", "ghp_alice"));
    vault.logical().write(mount + "/github/alice", Map.of("token", "ghp_alice_v2"));

    assertThat(vault.logical().read(mount + "/github/alice").getData())
        .containsEntry("token", "ghp_alice_v2");
    // Really KV v2: the raw API keeps both versions.
    String metadata = bao.request("GET", mount + "/metadata/github/alice", null);
    assertThat(Json.parse(metadata).asObject().get("data").asObject().getInt("current_version", 0))
        .isEqualTo(2);
    assertThat(vault.logical().read(mount + "/github/bob").getRestResponse().getStatus())
        .isEqualTo(404);
  }

  @Test
  void secretsSurviveAStopAndStart() throws Exception {
    String mount = bao.newKvMount();
    bao.rootClient().logical().write(mount + "/durable", Map.of("value", "still-here"));

    bao.stop();
    assertThat(bao.isRunning()).isFalse();
    assertThatThrownBy(
            () ->
                HttpClient.newHttpClient()
                    .send(
                        HttpRequest.newBuilder(URI.create(bao.address() + "/v1/sys/health"))
                            .build(),
                        HttpResponse.BodyHandlers.discarding()))
        .isInstanceOf(java.io.IOException.class);
    long t0 = System.nanoTime();
    bao.start();
    System.out.printf(
        "OpenBao restart + unseal took %d ms%n", (System.nanoTime() - t0) / 1_000_000);

    assertThat(bao.rootClient().logical().read(mount + "/durable").getData())
        .containsEntry("value", "still-here");
  }

  @Test
  void aSealedServerRefusesReadsUntilUnsealed() throws Exception {
    String mount = bao.newKvMount();
    bao.rootClient().logical().write(mount + "/x", Map.of("value", "1"));

    bao.seal();
    try {
      assertThatThrownBy(() -> bao.rootClient().logical().read(mount + "/x"))
          .isInstanceOfSatisfying(
              VaultException.class, e -> assertThat(e.getHttpStatusCode()).isEqualTo(503));
    } finally {
      bao.unseal();
    }

    assertThat(bao.rootClient().logical().read(mount + "/x").getData()).containsEntry("value", "1");
  }

  @Test
  void kubernetesAuthLogsInAServiceAccountWithATokenRequestToken(KubeControlPlane kube)
      throws Exception {
    String ns = kube.newNamespace("vault-login");
    for (String sa : new String[] {"agent", "intruder"}) {
      kube.client()
          .serviceAccounts()
          .inNamespace(ns)
          .resource(
              new ServiceAccountBuilder().withNewMetadata().withName(sa).endMetadata().build())
          .create();
    }
    String authMount = "kubernetes-" + ns;
    bao.enableKubernetesAuth(kube, authMount);
    String kv = bao.newKvMount();
    bao.rootClient().logical().write(kv + "/github", Map.of("token", "ghp_session"));
    bao.request(
        "PUT",
        "sys/policies/acl/" + ns,
        Json.object()
            .add("policy", "path \"" + kv + "/data/*\" { capabilities = [\"read\"] }")
            .toString());
    bao.request(
        "POST",
        "auth/" + authMount + "/role/agent",
        Json.object()
            .add("bound_service_account_names", Json.array("agent"))
            .add("bound_service_account_namespaces", Json.array(ns))
            .add("audience", "vault")
            .add("token_policies", Json.array(ns))
            .add("token_ttl", "10m")
            .toString());

    String jwt = kube.serviceAccountToken(ns, "agent", Duration.ofMinutes(10), "vault");
    // The driver's third argument is the path under /v1/, not the mount name.
    AuthResponse login =
        bao.rootClient().auth().loginByKubernetes("agent", jwt, "auth/" + authMount);

    assertThat(login.getAuthClientToken()).isNotBlank();
    assertThat(login.getAuthPolicies()).contains(ns);
    assertThat(bao.client(login.getAuthClientToken()).logical().read(kv + "/github").getData())
        .containsEntry("token", "ghp_session");

    // Another account of the same namespace is not bound to the role.
    String intruder = kube.serviceAccountToken(ns, "intruder", Duration.ofMinutes(10), "vault");
    assertThatThrownBy(
            () -> bao.rootClient().auth().loginByKubernetes("agent", intruder, "auth/" + authMount))
        .isInstanceOf(VaultException.class);
    // The right account with a token for another audience is refused too.
    String wrongAudience =
        kube.serviceAccountToken(ns, "agent", Duration.ofMinutes(10), "not-vault");
    assertThatThrownBy(
            () ->
                bao.rootClient()
                    .auth()
                    .loginByKubernetes("agent", wrongAudience, "auth/" + authMount))
        .isInstanceOf(VaultException.class);
  }
}
