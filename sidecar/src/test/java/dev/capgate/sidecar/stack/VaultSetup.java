package dev.capgate.sidecar.stack;

import dev.capgate.api.identity.SigningKeys;
import dev.capgate.testkit.OpenBaoServer;
import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonArray;
import io.github.jopenlibs.vault.json.JsonObject;
import java.security.KeyPair;
import java.util.List;
import java.util.UUID;

/**
 * OpenBao configured as an admin would for Capgate: the JWT auth method that trusts the operator's
 * session signing key (here a test key), a role for session tokens, policies templated on the
 * session's user. No Kubernetes auth: the pods' service account has no Vault login.
 */
public final class VaultSetup {
  private VaultSetup() {}

  /**
   * A JWT auth mount and the key whose session JWTs it accepts.
   *
   * @param mount where it is enabled (no {@code auth/})
   * @param accessor the mount's accessor, which templated policies name
   * @param signer the operator's signing key in the real deployment; the test issuer's here
   */
  public record SessionJwtAuth(String mount, String accessor, KeyPair signer) {
    /**
     * The session's user in a policy path: the entity alias of this mount is named by the JWT's
     * {@code user}.
     */
    public String userTemplate() {
      return "{{identity.entity.aliases." + accessor + ".name}}";
    }
  }

  /**
   * {@code auth enable -path=<mount> jwt}, then {@code jwt_validation_pubkeys=[public.pem]
   * bound_issuer=capgate}, as e2e/stack/stack-up.sh does with the operator's key.
   */
  public static SessionJwtAuth sessionJwtAuth(OpenBaoServer bao) {
    KeyPair signer = SigningKeys.generate();
    String mount = "capgate-jwt-" + UUID.randomUUID().toString().substring(0, 8);
    bao.request("POST", "sys/auth/" + mount, Json.object().add("type", "jwt").toString());
    bao.request(
        "POST",
        "auth/" + mount + "/config",
        Json.object()
            .add("jwt_validation_pubkeys", Json.array(SigningKeys.publicKeyPem(signer.getPublic())))
            .add("bound_issuer", "capgate")
            .toString());
    String accessor =
        read(bao, "sys/auth")
            .get("data")
            .asObject()
            .get(mount + "/")
            .asObject()
            .getString("accessor", null);
    return new SessionJwtAuth(mount, accessor, signer);
  }

  public static void policy(OpenBaoServer bao, String name, String hcl) {
    bao.request("PUT", "sys/policies/acl/" + name, Json.object().add("policy", hcl).toString());
  }

  /**
   * The role session JWTs log in with (the chart's {@code capgate-agent}), with the given policies
   * and TTLs.
   */
  public static void sessionRole(
      OpenBaoServer bao,
      SessionJwtAuth auth,
      String role,
      List<String> policies,
      String ttl,
      String maxTtl) {
    JsonArray tokenPolicies = new JsonArray();
    policies.forEach(tokenPolicies::add);
    JsonObject body =
        Json.object()
            .add("role_type", "jwt")
            .add("bound_audiences", Json.array("vault"))
            .add("user_claim", "user")
            .add(
                "claim_mappings",
                Json.object()
                    .add("namespace", "namespace")
                    .add("session", "session")
                    .add("agent", "agent")
                    .add("pod", "pod"))
            .add("token_policies", tokenPolicies)
            .add("token_ttl", ttl)
            .add("token_max_ttl", maxTtl);
    bao.request("POST", "auth/" + auth.mount() + "/role/" + role, body.toString());
  }

  /** {@code GET}s a path as root and returns the parsed answer. */
  public static JsonObject read(OpenBaoServer bao, String path) {
    return Json.parse(bao.request("GET", path, null)).asObject();
  }
}
