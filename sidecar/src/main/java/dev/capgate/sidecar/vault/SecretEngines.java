package dev.capgate.sidecar.vault;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.common.vault.VaultReply;
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
  static FetchedSecret kv2(VaultReply reply, String path, Instant now, Duration cacheTtl) {
    JsonNode data = reply.data().path("data");
    if (!data.isObject()) {
      throw new VaultReadException("Vault path " + path + " is not a KV v2 secret (no data.data)");
    }
    Instant until = now.plus(cacheTtl);
    return new FetchedSecret(strings(data), until, until, null);
  }

  /**
   * An identity token: {@code {"data": {"token": "<jwt>", "ttl": 3600, "client_id": ...}}}, served
   * until shortly before the JWT expires.
   */
  static FetchedSecret identityToken(VaultReply reply, String path, Instant now) {
    JsonNode data = reply.data();
    long ttl = data.path("ttl").asLong(0);
    if (!data.path("token").isTextual() || data.path("token").asText().isEmpty() || ttl <= 0) {
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
      VaultReply reply, String path, Instant now, Duration cacheTtl, String tokenAccessor) {
    Map<String, String> fields = strings(reply.data());
    String leaseId = reply.body().path("lease_id").asText("");
    long seconds = reply.body().path("lease_duration").asLong(0);
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
            leaseId, duration, reply.body().path("renewable").asBoolean(false), tokenAccessor, now);
    return new FetchedSecret(
        fields, lease.expiresAt, lease.expiresAt.minus(FetchedSecret.margin(duration)), lease);
  }

  /** Only strings are usable as header values; other JSON types count as "not found". */
  private static Map<String, String> strings(JsonNode object) {
    Map<String, String> fields = new HashMap<>();
    for (Map.Entry<String, JsonNode> member : object.properties()) {
      if (member.getValue().isTextual()) {
        fields.put(member.getKey(), member.getValue().textValue());
      }
    }
    return fields;
  }
}
