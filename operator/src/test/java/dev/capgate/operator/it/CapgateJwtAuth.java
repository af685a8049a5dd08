package dev.capgate.operator.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.identity.SessionJwt;
import dev.capgate.api.identity.SigningKeys;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.testkit.SessionJwtAuth;
import io.fabric8.kubernetes.api.model.Secret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * OpenBao set up exactly as operator/README.md ("Vault identity") tells an admin to: a JWT auth
 * method trusting the operator's session-signing key (read from its Secret, as the admin reads
 * public.pem), role {@code capgate-agent} with the documented claim mappings, and the templated
 * policy that lets a token read {@code <kv>/data/github/<its session's user>} only. A fresh mount
 * per test class, so classes do not share Vault state. No Kubernetes auth anywhere.
 */
final class CapgateJwtAuth {
  static final String ROLE = "capgate-agent";
  private static final ObjectMapper JSON = new ObjectMapper();

  final OperatorUnderTest stack;
  final String mount;
  final String kvMount;
  final String policy;
  final String mountAccessor;
  final String publicPem;

  private CapgateJwtAuth(
      OperatorUnderTest stack,
      String mount,
      String kvMount,
      String policy,
      String mountAccessor,
      String publicPem) {
    this.stack = stack;
    this.mount = mount;
    this.kvMount = kvMount;
    this.policy = policy;
    this.mountAccessor = mountAccessor;
    this.publicPem = publicPem;
  }

  static CapgateJwtAuth enable(OperatorUnderTest stack) {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String mount = "capgate-jwt-" + suffix;
    String publicPem = secretText(stack, "public.pem");
    // bao auth enable -path=capgate-jwt jwt
    // bao write auth/capgate-jwt/config jwt_validation_pubkeys=@public.pem bound_issuer=capgate
    SessionJwtAuth auth = SessionJwtAuth.enable(stack.bao, mount, publicPem);
    String accessor = auth.accessor();
    String kvMount = stack.bao.newKvMount();
    String policy = "capgate-agent-" + suffix;
    // The documented policy, on this test's KV mount.
    stack.bao.request(
        "PUT",
        "sys/policies/acl/" + policy,
        json(
            Map.of(
                "policy",
                "path \""
                    + kvMount
                    + "/data/github/"
                    + auth.userTemplate()
                    + "\" {\n"
                    + "  capabilities = [\"read\"]\n}\n")));
    // bao write auth/capgate-jwt/role/capgate-agent @charts/capgate/files/vault-session-role.json
    auth.role(stack.bao, ROLE, List.of(policy), "1h", "4h");
    return new CapgateJwtAuth(stack, mount, kvMount, policy, accessor, publicPem);
  }

  /**
   * The operator's key pair, from its Secret (for tests that need a login the operator did not
   * make).
   */
  static KeyPair operatorKeys(OperatorUnderTest stack) {
    return SigningKeys.fromPem(secretText(stack, "tls.key"), secretText(stack, "public.pem"));
  }

  /** A login as the operator makes it for a session (unwrapped): returns the auth block. */
  JsonNode login(String user, String namespace, String session) {
    String jwt =
        SessionJwt.sign(
            new SessionJwt.Claims(
                "capgate",
                "vault",
                user,
                "coding-agent",
                namespace,
                session,
                UUID.randomUUID().toString(),
                "pod-" + session,
                UUID.randomUUID().toString(),
                Instant.now(),
                null),
            operatorKeys(stack));
    return read(stack.bao.request(
            "POST", "auth/" + mount + "/login", json(Map.of("role", ROLE, "jwt", jwt))))
        .path("auth");
  }

  void putSecret(String user, String token) {
    stack.bao.request(
        "POST", kvMount + "/data/github/" + user, json(Map.of("data", Map.of("token", token))));
  }

  /** One OpenBao call with {@code token} (null: none): status and body, whatever they are. */
  VaultReply as(String token, String method, String path, Object body) {
    return stack.bao.client().call(method, path, token, body);
  }

  static JsonNode read(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String secretText(OperatorUnderTest stack, String key) {
    Secret secret =
        stack
            .client
            .secrets()
            .inNamespace(OperatorUnderTest.OPERATOR_NAMESPACE)
            .withName("capgate-session-signer")
            .get();
    return new String(
        Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
  }
}
