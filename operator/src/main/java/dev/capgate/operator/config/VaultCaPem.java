package dev.capgate.operator.config;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.common.tls.PemTrust;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The PEM of Vault's CA ({@code CAPGATE_VAULT_CACERT}) as the webhook hands it to every sidecar: in
 * the {@code capgate-proxy} container's {@link SidecarContract#ENV_VAULT_CA}, so in every injected
 * pod object. Hence the bound: one or a few CAs fit easily, a whole bundle of public roots would
 * bloat each pod (and is pointless: without this setting the sidecar trusts the JDK's roots).
 */
public final class VaultCaPem {
  /** About ten CA certificates; a pod object stays far below the API server's limits. */
  public static final int MAX_BYTES = 16 * 1024;

  private VaultCaPem() {}

  /**
   * @return the file's text, checked to hold at least one X.509 certificate
   * @throws IllegalArgumentException naming the file when it is unreadable, too large, or holds no
   *     certificate
   */
  public static String read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the Vault CA file " + file + " (CAPGATE_VAULT_CACERT): " + e.getMessage(),
          e);
    }
    if (bytes.length > MAX_BYTES) {
      throw new IllegalArgumentException(
          "the Vault CA file "
              + file
              + " (CAPGATE_VAULT_CACERT) has "
              + bytes.length
              + " bytes, more than "
              + MAX_BYTES
              + ": it is copied into every injected pod, so give only the CA(s) that issued"
              + " Vault's certificate");
    }
    String pem = new String(bytes, StandardCharsets.US_ASCII).strip() + "\n";
    // Parsed here so that a bad file stops the operator at start, not every sidecar later.
    PemTrust.sslContext(pem, "the Vault CA file " + file + " (CAPGATE_VAULT_CACERT)");
    return pem;
  }
}
