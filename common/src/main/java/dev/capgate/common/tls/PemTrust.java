package dev.capgate.common.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS that trusts only the given PEM certificates (one or more CAs), not the JDK's default set: a
 * server inside the cluster (Vault, the operator) must prove it holds a certificate from that CA,
 * and the JDK client then also checks the host name or IP address against it.
 */
public final class PemTrust {
  private PemTrust() {}

  /**
   * @param what names the source in errors, e.g. "the Vault CA file /x" or "CAPGATE_OPERATOR_CA"
   */
  public static SSLContext sslContext(InputStream pem, String what) {
    try (pem) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (Certificate certificate :
          CertificateFactory.getInstance("X.509").generateCertificates(pem)) {
        store.setCertificateEntry("ca-" + i++, certificate);
      }
      if (i == 0) {
        throw new IllegalArgumentException("no certificate in " + what);
      }
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot read a PEM certificate from " + what + ": " + e.getMessage(), e);
    }
  }

  public static SSLContext sslContext(String pemText, String what) {
    if (pemText == null || pemText.isBlank()) {
      throw new IllegalArgumentException("no certificate in " + what);
    }
    return sslContext(new ByteArrayInputStream(pemText.getBytes(StandardCharsets.US_ASCII)), what);
  }

  /**
   * @param what names the file in errors, e.g. "the Vault CA file"
   */
  public static SSLContext sslContext(Path pemFile, String what) {
    try {
      return sslContext(Files.newInputStream(pemFile), what + " " + pemFile);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read " + what + " " + pemFile + ": " + e.getMessage(), e);
    }
  }
}
