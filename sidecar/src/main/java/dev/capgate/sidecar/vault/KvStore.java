package dev.capgate.sidecar.vault;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.common.vault.VaultStatus;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Uncached KV v2 reads and check-and-set writes with the broker's Vault token, for credential kinds
 * that keep state in Vault (an OAuth refresh token that the authorization server rotates).
 * Blocking: call it on a virtual thread. Failures are {@link VaultReadException}s with reasons
 * written here, never Vault's body, never a value.
 */
public final class KvStore {
  /** A secret's string fields and the KV v2 version they were read at. */
  public record Versioned(Map<String, String> fields, long version) {
    @Override
    public String toString() {
      return "Versioned[fields=" + fields.keySet() + ", version=" + version + "]";
    }
  }

  /** What a check-and-set write did. */
  public enum WriteOutcome {
    WRITTEN,
    /** Someone wrote a newer version first (another pod of the session rotated it). */
    CONFLICT
  }

  private final VaultClient vault;
  private final VaultTokenSource tokens;

  KvStore(VaultClient vault, VaultTokenSource tokens) {
    this.vault = Objects.requireNonNull(vault, "vault");
    this.tokens = Objects.requireNonNull(tokens, "tokens");
  }

  /** The current version of the KV v2 secret at API path {@code path} (…/data/…). */
  public Versioned read(String path) {
    VaultReply reply = call("GET", path, null);
    if (!reply.ok()) {
      throw new VaultReadException(VaultStatus.describe(reply.status(), path));
    }
    JsonNode data = reply.data().path("data");
    if (!data.isObject()) {
      throw new VaultReadException("Vault path " + path + " is not a KV v2 secret (no data.data)");
    }
    Map<String, String> fields = new HashMap<>();
    for (Map.Entry<String, JsonNode> member : data.properties()) {
      if (member.getValue().isTextual()) {
        fields.put(member.getKey(), member.getValue().textValue());
      }
    }
    return new Versioned(
        Map.copyOf(fields), reply.data().path("metadata").path("version").asLong(0));
  }

  /**
   * Writes {@code fields} as the next version, only if the secret is still at {@code version} (KV
   * v2 {@code options.cas}): two pods rotating the same grant never overwrite each other. Needs
   * {@code update} on the path in the session's Vault policy.
   */
  public WriteOutcome writeIfUnchanged(String path, Map<String, String> fields, long version) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("options", Map.of("cas", version));
    body.put("data", fields);
    VaultReply reply = call("POST", path, body);
    if (reply.ok()) {
      return WriteOutcome.WRITTEN;
    }
    if (reply.status() == 400 && reply.errorsMention("check-and-set")) {
      return WriteOutcome.CONFLICT;
    }
    throw new VaultReadException("write: " + VaultStatus.describe(reply.status(), path));
  }

  private VaultReply call(String method, String path, Object body) {
    for (int attempt = 0; ; attempt++) {
      VaultToken token = tokens.current();
      VaultReply reply = vault.call(method, path, token.token(), body);
      if (reply.status() == 403 && attempt == 0 && tokens.dropIfDead(token.token())) {
        continue;
      }
      return reply;
    }
  }
}
