package dev.capgate.common.vault;

/**
 * A Vault call that did not succeed, in words written here: the call and the status, never Vault's
 * body nor a token.
 */
public final class VaultCallException extends RuntimeException {
  private final int status;

  public VaultCallException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The HTTP status; 0 when Vault did not answer. */
  public int status() {
    return status;
  }
}
