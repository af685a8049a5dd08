package dev.capgate.operator.ca;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/** PEM text and fingerprints of certificates and keys. */
public final class Pem {
  private Pem() {}

  /** A certificate, or a private key as PKCS#8 ("PRIVATE KEY"), as PEM text. */
  public static String encode(Object certificateOrKey) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
      if (certificateOrKey instanceof java.security.PrivateKey key) {
        pem.writeObject(
            new org.bouncycastle.util.io.pem.PemObject("PRIVATE KEY", key.getEncoded()));
      } else {
        pem.writeObject(certificateOrKey);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** {@code sha256:<hex of the DER certificate>}: what the pod annotation and the events carry. */
  public static String fingerprint(X509Certificate certificate) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
      return "sha256:" + HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }
}
