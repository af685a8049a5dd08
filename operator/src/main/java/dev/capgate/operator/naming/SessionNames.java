package dev.capgate.operator.naming;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Names of the per-session objects. A session name may be 253 characters long, so a prefixed name
 * is shortened with a hash suffix when it would not fit: still unique, still stable.
 */
public final class SessionNames {
  static final int MAX_NAME = 253;
  public static final String SIDECAR_RBAC_PREFIX = "capgate-sidecar-";
  public static final String LEASES_PREFIX = "capgate-leases-";
  public static final String TOKENS_PREFIX = "capgate-tokens-";

  private SessionNames() {}

  /** Role and RoleBinding that let the session's sidecars read this session only. */
  public static String sidecarRbac(String session) {
    return derived(SIDECAR_RBAC_PREFIX, session);
  }

  /** ConfigMap where sidecars record Vault lease ids and token accessors. */
  public static String leases(String session) {
    return derived(LEASES_PREFIX, session);
  }

  /**
   * ConfigMap where the operator records the accessors of the Vault tokens it issued (operator
   * only).
   */
  public static String tokens(String session) {
    return derived(TOKENS_PREFIX, session);
  }

  static String derived(String prefix, String session) {
    String name = prefix + session;
    if (name.length() <= MAX_NAME) {
      return name;
    }
    String hash = sha256(session).substring(0, 10);
    String head = name.substring(0, MAX_NAME - hash.length() - 1);
    head =
        head.endsWith(".") || head.endsWith("-")
            ? head.substring(0, head.length() - 1) + "x"
            : head;
    return head + "-" + hash;
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
