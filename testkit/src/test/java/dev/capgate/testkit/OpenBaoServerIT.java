package dev.capgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.common.vault.VaultReply;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RealStackExtension.class)
class OpenBaoServerIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final OpenBaoServer bao;

  OpenBaoServerIT(OpenBaoServer bao) {
    this.bao = bao;
  }

  @Test
  void writesAndReadsAKvV2Secret() throws Exception {
    String mount = bao.newKvMount();

    bao.putKv(mount + "/github/alice", Map.of("token", "ghp_alice"));
    bao.putKv(mount + "/github/alice", Map.of("token", "ghp_alice_v2"));

    assertThat(read(mount, "github/alice", bao.rootToken()).path("token").asText())
        .isEqualTo("ghp_alice_v2");
    // Really KV v2: the raw API keeps both versions.
    String metadata = bao.request("GET", mount + "/metadata/github/alice", null);
    assertThat(JSON.readTree(metadata).path("data").path("current_version").asInt()).isEqualTo(2);
    assertThat(bao.client().call("GET", mount + "/data/github/bob", bao.rootToken(), null).status())
        .isEqualTo(404);
  }

  @Test
  void aFailedRequestNamesTheCallAndStatusButNotTheAnswer() {
    assertThatThrownBy(() -> bao.request("GET", "no-such-mount/data/x", null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("GET /v1/no-such-mount/data/x")
        .hasMessageContaining("HTTP ")
        .hasMessageNotContaining("errors")
        .hasMessageNotContaining(bao.rootToken());
  }

  @Test
  void secretsSurviveAStopAndStart() throws Exception {
    String mount = bao.newKvMount();
    bao.putKv(mount + "/durable", Map.of("value", "still-here"));

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
    assertThat(bao.client().call("GET", "sys/health", null, null).answered())
        .as("the client's view of a stopped server: no answer")
        .isFalse();
    long t0 = System.nanoTime();
    bao.start();
    System.out.printf(
        "OpenBao restart + unseal took %d ms%n", (System.nanoTime() - t0) / 1_000_000);

    assertThat(read(mount, "durable", bao.rootToken()).path("value").asText())
        .isEqualTo("still-here");
  }

  @Test
  void aSealedServerRefusesReadsUntilUnsealed() throws Exception {
    String mount = bao.newKvMount();
    bao.putKv(mount + "/x", Map.of("value", "1"));

    bao.seal();
    try {
      assertThat(bao.client().call("GET", mount + "/data/x", bao.rootToken(), null).status())
          .isEqualTo(503);
    } finally {
      bao.unseal();
    }

    assertThat(read(mount, "x", bao.rootToken()).path("value").asText()).isEqualTo("1");
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
    bao.putKv(kv + "/github", Map.of("token", "ghp_session"));
    bao.request(
        "PUT",
        "sys/policies/acl/" + ns,
        Map.of("policy", "path \"" + kv + "/data/*\" { capabilities = [\"read\"] }"));
    bao.request(
        "POST",
        "auth/" + authMount + "/role/agent",
        Map.of(
            "bound_service_account_names",
            List.of("agent"),
            "bound_service_account_namespaces",
            List.of(ns),
            "audience",
            "vault",
            "token_policies",
            List.of(ns),
            "token_ttl",
            "10m"));

    String jwt = kube.serviceAccountToken(ns, "agent", Duration.ofMinutes(10), "vault");
    VaultReply login = login(authMount, jwt);

    assertThat(login.status()).isEqualTo(200);
    String token = login.auth().path("client_token").asText();
    assertThat(token).isNotBlank();
    assertThat(login.auth().path("policies").toString()).contains(ns);
    assertThat(read(kv, "github", token).path("token").asText()).isEqualTo("ghp_session");

    // Another account of the same namespace is not bound to the role.
    String intruder = kube.serviceAccountToken(ns, "intruder", Duration.ofMinutes(10), "vault");
    assertThat(login(authMount, intruder).status()).isBetween(400, 499);
    // The right account with a token for another audience is refused too.
    String wrongAudience =
        kube.serviceAccountToken(ns, "agent", Duration.ofMinutes(10), "not-vault");
    assertThat(login(authMount, wrongAudience).status()).isBetween(400, 499);
  }

  private VaultReply login(String authMount, String jwt) {
    return bao.client()
        .call("POST", "auth/" + authMount + "/login", null, Map.of("role", "agent", "jwt", jwt));
  }

  /** A KV v2 secret's fields, read with {@code token}. */
  private JsonNode read(String mount, String key, String token) {
    VaultReply reply = bao.client().call("GET", mount + "/data/" + key, token, null);
    assertThat(reply.status()).as("reading %s/%s", mount, key).isEqualTo(200);
    return reply.data().path("data");
  }
}
