package dev.capgate.sidecar.dataplane;

import dev.capgate.testkit.OpenBaoServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A fresh KV v2 mount in the shared OpenBao for one test class, so that classes never see each
 * other's secrets, and the short-lived token the sidecar reads it with (file mode).
 */
final class VaultKv {
  private final OpenBaoServer bao = OpenBaoServer.shared();
  private final String mount = bao.newKvMount();

  /** The API path of secret {@code name} in this mount, as a credential's vault.path names it. */
  String path(String name) {
    return mount + "/data/" + name;
  }

  /** The address the test upstreams forward Vault traffic to. */
  String address() {
    return bao.address();
  }

  /** The same server over TLS, its certificate from a private CA ({@link #tlsCaPem()}). */
  String tlsAddress() {
    return bao.tlsAddress();
  }

  String tlsCaPem() {
    return bao.tlsCaPem();
  }

  /** Writes {@code field: value} into secret {@code name}. */
  VaultKv put(String name, String field, String value) {
    bao.request(
        "POST",
        path(name),
        new JsonObject().put("data", new JsonObject().put(field, value)).encode());
    return this;
  }

  /** Writes {@code fields} as secret {@code name} (one version with every field). */
  VaultKv put(String name, java.util.Map<String, String> fields) {
    JsonObject data = new JsonObject();
    fields.forEach(data::put);
    bao.request("POST", path(name), new JsonObject().put("data", data).encode());
    return this;
  }

  /** A one-hour token whose only policy is to read everything under this mount. */
  String readerToken() {
    return token("capgate-sidecar-" + mount, "\"read\"");
  }

  /**
   * A one-hour token that may read and update everything under this mount: what a session needs for
   * OAuth refresh tokens, which the sidecar writes back when the server rotates them.
   */
  String readUpdateToken() {
    return token("capgate-sidecar-rw-" + mount, "\"read\", \"update\"");
  }

  /**
   * The current data and metadata of secret {@code name} ({@code data.data}, {@code
   * data.metadata}).
   */
  JsonObject read(String name) {
    return new JsonObject(bao.request("GET", path(name), null)).getJsonObject("data");
  }

  private String token(String policy, String capabilities) {
    bao.request(
        "POST",
        "sys/policies/acl/" + policy,
        new JsonObject()
            .put(
                "policy", "path \"" + mount + "/data/*\" { capabilities = [" + capabilities + "] }")
            .encode());
    return new JsonObject(
            bao.request(
                "POST",
                "auth/token/create",
                new JsonObject()
                    .put("policies", new JsonArray().add(policy))
                    .put("ttl", "1h")
                    .encode()))
        .getJsonObject("auth")
        .getString("client_token");
  }
}
