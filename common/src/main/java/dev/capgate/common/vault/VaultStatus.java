package dev.capgate.common.vault;

/**
 * Vault's HTTP status in words for errors and logs: written here, never copied from Vault's body.
 */
public final class VaultStatus {
  private VaultStatus() {}

  /**
   * @param what the path or action, e.g. "secret/data/github/alice" or "login"
   */
  public static String describe(int status, String what) {
    return switch (status) {
      case 0 -> "Vault unreachable (" + what + ")";
      case 400 -> "Vault rejected the request for " + what + " (HTTP 400)";
      case 403 -> "Vault denied access to " + what + " (HTTP 403)";
      case 404 -> "nothing at Vault path " + what + " (HTTP 404)";
      case 429 -> "Vault rate-limited " + what + " (HTTP 429)";
      case 503 -> "Vault is sealed or unavailable (HTTP 503)";
      default -> "Vault answered HTTP " + status + " for " + what;
    };
  }
}
