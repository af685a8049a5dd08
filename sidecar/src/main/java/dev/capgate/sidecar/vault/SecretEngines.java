package dev.capgate.sidecar.vault;

import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** How each engine's answer becomes a {@link FetchedSecret}, and so how long it may be served. */
final class SecretEngines {
  private SecretEngines() {}

  /**
   * KV v2: {@code {"data": {"data": {...}, "metadata": {...}}}}, served for the configured cache
   * TTL.
   */
  static FetchedSecret kv2(
      VaultConnection.Reply reply, String path, Instant now, Duration cacheTtl) {
    JsonValue data = reply.object("data").get("data");
    if (data == null || !data.isObject()) {
      throw new VaultReadException("Vault path " + path + " is not a KV v2 secret (no data.data)");
    }
    Instant until = now.plus(cacheTtl);
    return new FetchedSecret(strings(data.asObject()), until, until, null);
  }

  /**
   * An identity token: {@code {"data": {"token": "<jwt>", "ttl": 3600, "client_id": ...}}}, served
   * until shortly before the JWT expires.
   */
  static FetchedSecret identityToken(VaultConnection.Reply reply, String path, Instant now) {
    JsonObject data = reply.object("data");
    long ttl = data.getLong("ttl", 0);
    if (data.getString("token", "").isEmpty() || ttl <= 0) {
      throw new VaultReadException(
          "Vault path " + path + " did not return an identity token with a ttl");
    }
    Duration lifetime = Duration.ofSeconds(ttl);
    Instant expiresAt = now.plus(lifetime);
    return new FetchedSecret(
        strings(data), expiresAt, expiresAt.minus(FetchedSecret.margin(lifetime)), null);
  }

  /**
   * A leased secret ({@code database/creds/<role>}, ...): {@code data} fields plus {@code
   * lease_id}, {@code lease_duration}, {@code renewable}; served for the lease (renewals extend
   * it). An answer without a lease is served like a static secret.
   */
  static FetchedSecret dynamic(
      VaultConnection.Reply reply,
      String path,
      Instant now,
      Duration cacheTtl,
      String tokenAccessor) {
    Map<String, String> fields = strings(reply.object("data"));
    String leaseId = reply.body().getString("lease_id", "");
    long seconds = reply.body().getLong("lease_duration", 0);
    if (leaseId.isEmpty() || seconds <= 0) {
      Duration serve =
          seconds > 0 && Duration.ofSeconds(seconds).compareTo(cacheTtl) < 0
              ? Duration.ofSeconds(seconds)
              : cacheTtl;
      return new FetchedSecret(fields, now.plus(serve), now.plus(serve), null);
    }
    Duration duration = Duration.ofSeconds(seconds);
    Lease lease =
        new Lease(
            leaseId, duration, reply.body().getBoolean("renewable", false), tokenAccessor, now);
    return new FetchedSecret(
        fields, lease.expiresAt, lease.expiresAt.minus(FetchedSecret.margin(duration)), lease);
  }

  /** Only strings are usable as header values; other JSON types count as "not found". */
  private static Map<String, String> strings(JsonObject object) {
    Map<String, String> fields = new HashMap<>();
    for (JsonObject.Member member : object) {
      if (member.getValue().isString()) {
        fields.put(member.getName(), member.getValue().asString());
      }
    }
    return fields;
  }
}
