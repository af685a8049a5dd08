package dev.capgate.api.sidecar;

/**
 * The ledgers of Vault leases and token accessors to revoke when a session ends: ConfigMap {@code
 * capgate-leases-<session>} (the session's sidecars write it) and {@code capgate-tokens-<session>}
 * (the operator writes it). Keys are {@code lease.<hash>} and {@code accessor.<hash>}, the values
 * the ids themselves: a key is derived from its id (lease ids hold '/', which a key may not), so
 * every writer adds its own keys with a JSON merge patch, without a counter to agree on, and
 * recording an id twice is harmless.
 */
public final class LeaseLedger {
  public static final String CONFIGMAP_PREFIX = "capgate-leases-";
  public static final String LEASE_KEY_PREFIX = "lease.";
  public static final String ACCESSOR_KEY_PREFIX = "accessor.";

  /** Hex characters of the key's SHA-256 (80 bits: no collision between a session's ids). */
  static final int HASH_CHARS = 20;

  private LeaseLedger() {}

  /** The sidecars' ledger of {@code session} (the operator creates it; the webhook passes it). */
  public static String configMapName(String session) {
    return SessionObjectNames.derived(CONFIGMAP_PREFIX, session);
  }

  public static String leaseKey(String leaseId) {
    return LEASE_KEY_PREFIX + hash(leaseId);
  }

  public static String accessorKey(String accessor) {
    return ACCESSOR_KEY_PREFIX + hash(accessor);
  }

  public static boolean isLeaseKey(String key) {
    return key.startsWith(LEASE_KEY_PREFIX);
  }

  public static boolean isAccessorKey(String key) {
    return key.startsWith(ACCESSOR_KEY_PREFIX);
  }

  private static String hash(String id) {
    return SessionObjectNames.sha256Hex(id).substring(0, HASH_CHARS);
  }
}
