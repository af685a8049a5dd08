package dev.capgate.api.sidecar;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Names of per-session objects ({@code <prefix><session>}). A session name may be 253 characters
 * long, so a prefixed name is shortened with a hash suffix when it would not fit: still unique,
 * still stable, and the same on the operator's side and the sidecar's.
 */
public final class SessionObjectNames {
  /** Longest object name (DNS subdomain). */
  public static final int MAX_NAME = 253;

  private SessionObjectNames() {}

  public static String derived(String prefix, String session) {
    String name = prefix + session;
    if (name.length() <= MAX_NAME) {
      return name;
    }
    String hash = sha256Hex(session).substring(0, 10);
    String head = name.substring(0, MAX_NAME - hash.length() - 1);
    head =
        head.endsWith(".") || head.endsWith("-")
            ? head.substring(0, head.length() - 1) + "x"
            : head;
    return head + "-" + hash;
  }

  static String sha256Hex(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
