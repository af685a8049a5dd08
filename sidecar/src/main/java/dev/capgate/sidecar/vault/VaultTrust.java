package dev.capgate.sidecar.vault;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.common.tls.PemTrust;
import dev.capgate.common.vault.VaultClient;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The sidecar's Vault client and whom it trusts, the same in cluster and file mode: the PEM the
 * webhook injects ({@code CAPGATE_VAULT_CA}, the chart's {@code vault.caCert}), or a PEM file
 * ({@code --vault-ca-file}, for a developer), else the JDK's roots. With a CA given, only that CA
 * is trusted: a Vault certificate from any other issuer fails the TLS handshake, and every
 * credential is then unavailable (503), never fetched over an unverified connection.
 */
public final class VaultTrust {
  public static final String PEM_SETTING =
      SidecarContract.ENV_VAULT_CA
          + " (--"
          + SidecarContract.flagOf(SidecarContract.ENV_VAULT_CA)
          + ")";

  private VaultTrust() {}

  /**
   * @throws IllegalArgumentException when both a PEM and a file are given, or either holds no
   *     certificate
   */
  public static VaultClient client(String address, String caPem, Path caFile, Duration timeout) {
    requireOne(caPem, caFile);
    if (caPem != null) {
      return VaultClient.create(address, PemTrust.sslContext(caPem, PEM_SETTING), timeout);
    }
    return VaultClient.create(address, caFile, timeout);
  }

  /** Two sources of trust would leave it unclear which one a connection used. */
  public static void requireOne(String caPem, Path caFile) {
    if (caPem != null && caFile != null) {
      throw new IllegalArgumentException(
          PEM_SETTING
              + " and --vault-ca-file (CAPGATE_VAULT_CA_FILE) exclude each other: give one");
    }
  }
}
