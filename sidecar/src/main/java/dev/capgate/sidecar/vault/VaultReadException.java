package dev.capgate.sidecar.vault;

/**
 * Why a Vault path could not be read, in words written here: never Vault's response body, never a
 * value. The cache is per path and shared by credentials, so each caller turns this into a {@code
 * CredentialUnavailableException} naming its own credential.
 */
public final class VaultReadException extends RuntimeException {
  VaultReadException(String reason) {
    super(reason, null, false, false);
  }
}
