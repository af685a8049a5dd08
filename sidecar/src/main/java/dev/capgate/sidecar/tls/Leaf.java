package dev.capgate.sidecar.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;

/** A minted leaf: the certificate the agent sees for one host, its key and the issuing CA. */
public record Leaf(X509Certificate certificate, PrivateKey key, X509Certificate issuer) {
  public Instant notAfter() {
    return certificate.getNotAfter().toInstant();
  }

  @Override
  public String toString() {
    return "Leaf[" + certificate.getSubjectX500Principal() + ", until " + notAfter() + "]";
  }
}
