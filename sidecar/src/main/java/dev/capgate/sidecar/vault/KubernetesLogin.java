package dev.capgate.sidecar.vault;

import io.github.jopenlibs.vault.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * One login with Vault's Kubernetes auth method. The service-account token is read from its file
 * at every login, never kept: the kubelet rotates a projected token (at 80 % of its lifetime), and
 * an old one may have expired or been revoked with its pod.
 */
final class KubernetesLogin {
  private final VaultConnection vault;
  private final String mount;
  private final String role;
  private final Path jwtFile;

  /** @param mount where the auth method is enabled, e.g. {@code kubernetes} (no {@code auth/}) */
  KubernetesLogin(VaultConnection vault, String mount, String role, Path jwtFile) {
    this.vault = Objects.requireNonNull(vault, "vault");
    this.mount = Objects.requireNonNull(mount, "mount").replaceAll("^/+|/+$", "");
    this.role = Objects.requireNonNull(role, "role");
    this.jwtFile = Objects.requireNonNull(jwtFile, "jwtFile");
  }

  /** @throws VaultReadException saying why, without the service-account token or Vault's answer */
  VaultToken login() {
    String jwt = readJwt();
    VaultConnection.Reply reply = vault.call("POST", "auth/" + mount + "/login", null,
        new JsonObject().add("role", role).add("jwt", jwt));
    if (!reply.ok()) {
      throw new VaultReadException(switch (reply.status()) {
        case 400, 403 -> "Vault refused the Kubernetes login as role '" + role + "' at auth/" + mount
            + " (HTTP " + reply.status() + "): check the role's bound service account, namespace and audience";
        default -> VaultStatus.describe(reply.status(), "Kubernetes login at auth/" + mount);
      });
    }
    JsonObject auth = reply.object("auth");
    String token = auth.getString("client_token", null);
    if (token == null || token.isEmpty()) {
      throw new VaultReadException("Vault's Kubernetes login answer holds no token");
    }
    return new VaultToken(token, auth.getString("accessor", ""),
        Duration.ofSeconds(auth.getLong("lease_duration", 0)), auth.getBoolean("renewable", false));
  }

  private String readJwt() {
    try {
      String jwt = Files.readString(jwtFile, StandardCharsets.UTF_8).strip();
      if (jwt.isEmpty() || !jwt.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
        throw new VaultReadException("the service-account token file " + jwtFile + " does not hold a single token");
      }
      return jwt;
    } catch (IOException e) {
      throw new VaultReadException("cannot read the service-account token file " + jwtFile);
    }
  }

  String describe() {
    return "role '" + role + "' at auth/" + mount;
  }
}
