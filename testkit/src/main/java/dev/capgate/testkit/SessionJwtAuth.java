package dev.capgate.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * OpenBao's JWT auth method set up as Capgate's admin does (charts/capgate/README.md, "Vault
 * identity"): it trusts the operator's session-signing key ({@code jwt_validation_pubkeys}, {@code
 * bound_issuer}), and its roles are {@code charts/capgate/files/vault-session-role.json}, the file
 * {@code e2e/openbao/bootstrap.sh} writes for the local stack and Kind too: one definition of the
 * role's audience, user claim and claim mappings, for every OpenBao Capgate is tested against.
 *
 * @param mount where the method is enabled (no {@code auth/})
 * @param accessor the mount's accessor, which templated policies name
 */
public record SessionJwtAuth(String mount, String accessor) {
  /** The {@code iss} of session JWTs (the chart's {@code identity.sessionIssuer}). */
  public static final String ISSUER = "capgate";

  /** The role definition, relative to the repository's root. */
  static final String ROLE_FILE = "charts/capgate/files/vault-session-role.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * {@code bao auth enable -path=<mount> jwt} (unless enabled), then {@code bao write
   * auth/<mount>/config jwt_validation_pubkeys=@public.pem bound_issuer=capgate}.
   *
   * @param publicKeyPem the operator's {@code public.pem} (SPKI PEM)
   */
  public static SessionJwtAuth enable(OpenBaoServer bao, String mount, String publicKeyPem) {
    if (accessor(bao, mount) == null) {
      bao.request("POST", "sys/auth/" + mount, Map.of("type", "jwt"));
    }
    bao.request(
        "POST",
        "auth/" + mount + "/config",
        Map.of("jwt_validation_pubkeys", List.of(publicKeyPem), "bound_issuer", ISSUER));
    return new SessionJwtAuth(mount, accessor(bao, mount));
  }

  /**
   * The session's user in a policy path: the entity alias of this mount is named by the JWT's
   * {@code user}.
   */
  public String userTemplate() {
    return "{{identity.entity.aliases." + accessor + ".name}}";
  }

  /**
   * {@code bao write auth/<mount>/role/<role> @vault-session-role.json}, with these policies and
   * TTLs instead of the file's.
   */
  public void role(
      OpenBaoServer bao, String role, List<String> policies, String ttl, String maxTtl) {
    ObjectNode body = roleDefinition();
    body.set("token_policies", JSON.valueToTree(policies));
    body.put("token_ttl", ttl);
    body.put("token_max_ttl", maxTtl);
    bao.request("POST", "auth/" + mount + "/role/" + role, body);
  }

  /** The role as the chart's file defines it. */
  public static ObjectNode roleDefinition() {
    Path file = Repository.root().resolve(ROLE_FILE);
    try {
      return (ObjectNode) JSON.readTree(file.toFile());
    } catch (IOException | ClassCastException e) {
      throw new IllegalStateException("cannot read the Vault role definition " + file, e);
    }
  }

  private static String accessor(OpenBaoServer bao, String mount) {
    try {
      JsonNode methods = JSON.readTree(bao.request("GET", "sys/auth", null)).path("data");
      JsonNode method = methods.path(mount + "/");
      return method.isMissingNode() ? null : method.path("accessor").asText(null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
