package dev.capgate.api.sidecar;

/**
 * The ledgers of Vault leases and token accessors to revoke when a session ends: ConfigMap {@code
 * capgate-leases-<session>} (the session's sidecars write it) and {@code capgate-tokens-<session>}
 * (the operator writes it). Keys are {@code lease.<hash>} and {@code accessor.<hash>}, the values
 * the ids themselves: a key is derived from its id (lease ids hold '/', which a key may not), so
 * every writer adds its own keys with a JSON merge patch, without a counter to agree on, and
 * recording an id twice is harmless.
 *
 * <p>The sidecars' ledger also carries each pod's activity ({@code activity.<pod name>}: the JSON
 * of a {@link dev.capgate.api.v1alpha1.SessionActivity}), which the operator sums into {@code
 * status.activity}. Never a secret: counts, times, and the last denial's host, method, path, rule,
 * reason and request id, each bounded.
 */
public final class LeaseLedger {
  public static final String CONFIGMAP_PREFIX = "capgate-leases-";
  public static final String LEASE_KEY_PREFIX = "lease.";
  public static final String ACCESSOR_KEY_PREFIX = "accessor.";
  public static final String ACTIVITY_KEY_PREFIX = "activity.";

  /**
   * The activity of the session's pods that are gone, folded together by the operator; '_' is in no
   * pod name, so no pod's key is this one.
   */
  public static final String RETIRED_ACTIVITY_KEY = ACTIVITY_KEY_PREFIX + "_retired";

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

  /** The key of {@code pod}'s activity (a pod name is a valid ConfigMap key). */
  public static String activityKey(String pod) {
    return ACTIVITY_KEY_PREFIX + pod;
  }

  public static boolean isActivityKey(String key) {
    return key.startsWith(ACTIVITY_KEY_PREFIX);
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
