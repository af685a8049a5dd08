package dev.capgate.sidecar.vault;

import java.time.Instant;
import java.util.Map;

/** The fields of one KV v2 secret as read, and until when they may be served from the cache. */
record KvSecret(Map<String, String> fields, Instant freshUntil) {
  @Override
  public String toString() {
    return "KvSecret[fields=" + fields.keySet() + ", freshUntil=" + freshUntil + "]";
  }
}
