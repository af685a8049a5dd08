package dev.capgate.sidecar.stack;

import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.OpenBaoServer;
import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonArray;
import io.github.jopenlibs.vault.json.JsonObject;
import java.util.List;
import java.util.UUID;

/** OpenBao configured as an admin would for Capgate: Kubernetes auth, a role for the sidecars, policies. */
public final class VaultSetup {
  private VaultSetup() {
  }

  /** Enables Kubernetes auth at a new mount pointed at {@code kube}; returns the mount (no {@code auth/}). */
  public static String kubernetesAuth(OpenBaoServer bao, KubeControlPlane kube) {
    String mount = "kubernetes-" + UUID.randomUUID().toString().substring(0, 8);
    bao.enableKubernetesAuth(kube, mount);
    return mount;
  }

  public static void policy(OpenBaoServer bao, String name, String hcl) {
    bao.request("PUT", "sys/policies/acl/" + name, Json.object().add("policy", hcl).toString());
  }

  /** A role for one service account of one namespace, tokens with the Vault audience only. */
  public static void sidecarRole(OpenBaoServer bao, String mount, String role, String namespace, String serviceAccount,
      List<String> policies, String ttl, String maxTtl) {
    JsonArray names = Json.array(serviceAccount);
    JsonArray namespaces = Json.array(namespace);
    JsonArray tokenPolicies = new JsonArray();
    policies.forEach(tokenPolicies::add);
    JsonObject body = Json.object()
        .add("bound_service_account_names", names)
        .add("bound_service_account_namespaces", namespaces)
        .add("audience", "vault")
        .add("token_policies", tokenPolicies)
        .add("token_ttl", ttl)
        .add("token_max_ttl", maxTtl);
    bao.request("POST", "auth/" + mount + "/role/" + role, body.toString());
  }

  /** {@code GET}s a path as root and returns the parsed answer. */
  public static JsonObject read(OpenBaoServer bao, String path) {
    return Json.parse(bao.request("GET", path, null)).asObject();
  }
}
