package dev.capgate.sidecar.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.identity.SigningKeys;
import dev.capgate.testkit.OpenBaoServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * OpenBao configured as an admin would for Capgate: the JWT auth method that trusts the operator's
 * session signing key (here a test key), a role for session tokens, policies templated on the
 * session's user ({@link dev.capgate.testkit.SessionJwtAuth}, the test kit's and the stacks' one
 * bootstrap). No Kubernetes auth: the pods' service account has no Vault login.
 */
public final class VaultSetup {
  private static final ObjectMapper JSON = new ObjectMapper();

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
      return auth().userTemplate();
    }

    dev.capgate.testkit.SessionJwtAuth auth() {
      return new dev.capgate.testkit.SessionJwtAuth(mount, accessor);
    }
  }

  /** A fresh JWT auth mount trusting a new test key, as e2e/openbao/bootstrap.sh does. */
  public static SessionJwtAuth sessionJwtAuth(OpenBaoServer bao) {
    KeyPair signer = SigningKeys.generate();
    String mount = "capgate-jwt-" + UUID.randomUUID().toString().substring(0, 8);
    dev.capgate.testkit.SessionJwtAuth auth =
        dev.capgate.testkit.SessionJwtAuth.enable(
            bao, mount, SigningKeys.publicKeyPem(signer.getPublic()));
    return new SessionJwtAuth(auth.mount(), auth.accessor(), signer);
  }

  public static void policy(OpenBaoServer bao, String name, String hcl) {
    bao.request("PUT", "sys/policies/acl/" + name, Map.of("policy", hcl));
  }

  /**
   * The policy {@code <prefix>-<auth mount>}: read {@code <kv>/github/<the session's user>} (a KV
   * v2 mount), nothing else. Returns its name.
   */
  public static String userGithubPolicy(
      OpenBaoServer bao, SessionJwtAuth jwt, String kv, String prefix) {
    String name = prefix + "-" + jwt.mount();
    policy(
        bao,
        name,
        "path \"" + kv + "/data/github/" + jwt.userTemplate() + "\" { capabilities = [\"read\"] }");
    return name;
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
    auth.auth().role(bao, role, policies, ttl, maxTtl);
  }

  /** {@code GET}s a path as root and returns the parsed answer. */
  public static JsonNode read(OpenBaoServer bao, String path) {
    return parse(bao.request("GET", path, null));
  }

  /** JSON text (an answer of {@link OpenBaoServer#request}) as a tree. */
  public static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
