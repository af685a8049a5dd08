package dev.capgate.operator.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.identity.SessionJwt;
import dev.capgate.api.identity.SigningKeys;
import io.fabric8.kubernetes.api.model.Secret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
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
  private static final HttpClient HTTP = HttpClient.newHttpClient();

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
    stack.bao.request("POST", "sys/auth/" + mount, json(Map.of("type", "jwt")));
    // bao write auth/capgate-jwt/config jwt_validation_pubkeys=@public.pem bound_issuer=capgate
    stack.bao.request(
        "POST",
        "auth/" + mount + "/config",
        json(Map.of("jwt_validation_pubkeys", List.of(publicPem), "bound_issuer", "capgate")));
    String accessor =
        read(stack.bao.request("GET", "sys/auth", null))
            .path("data")
            .path(mount + "/")
            .path("accessor")
            .asText();
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
                    + "/data/github/{{identity.entity.aliases."
                    + accessor
                    + ".name}}\" {\n"
                    + "  capabilities = [\"read\"]\n}\n")));
    stack.bao.request(
        "POST",
        "auth/" + mount + "/role/" + ROLE,
        json(
            Map.of(
                "role_type", "jwt",
                "bound_audiences", List.of("vault"),
                "user_claim", "user",
                "claim_mappings",
                    Map.of(
                        "namespace",
                        "namespace",
                        "session",
                        "session",
                        "agent",
                        "agent",
                        "pod",
                        "pod"),
                "token_policies", List.of(policy),
                "token_ttl", "1h",
                "token_max_ttl", "4h")));
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
  HttpResponse<String> as(String token, String method, String path, String body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(stack.bao.address() + "/v1/" + path))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("X-Vault-Token", token);
    }
    try {
      return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
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
