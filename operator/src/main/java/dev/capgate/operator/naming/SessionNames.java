package dev.capgate.operator.naming;

import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.sidecar.SessionObjectNames;

/**
 * Names of the per-session objects. A session name may be 253 characters long, so a prefixed name
 * is shortened with a hash suffix when it would not fit ({@link SessionObjectNames}, shared with
 * the sidecar): still unique, still stable.
 */
public final class SessionNames {
  static final int MAX_NAME = SessionObjectNames.MAX_NAME;
  public static final String SIDECAR_RBAC_PREFIX = "capgate-sidecar-";
  public static final String TOKENS_PREFIX = "capgate-tokens-";

  private SessionNames() {}

  /** Role and RoleBinding that let the session's sidecars read this session only. */
  public static String sidecarRbac(String session) {
    return derived(SIDECAR_RBAC_PREFIX, session);
  }

  /** ConfigMap where sidecars record Vault lease ids and token accessors. */
  public static String leases(String session) {
    return LeaseLedger.configMapName(session);
  }

  /**
   * ConfigMap where the operator records the accessors of the Vault tokens it issued (operator
   * only).
   */
  public static String tokens(String session) {
    return derived(TOKENS_PREFIX, session);
  }

  static String derived(String prefix, String session) {
    return SessionObjectNames.derived(prefix, session);
  }
}
