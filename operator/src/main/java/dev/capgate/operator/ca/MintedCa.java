package dev.capgate.operator.ca;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * A freshly minted per-pod CA: the root agents trust, and the signing CA under it whose key the
 * sidecar holds (see {@link PodCaMinter}). {@link #toString()} never shows the key.
 *
 * @param root trusted by agent containers; its key no longer exists
 * @param certificate the signing CA (issued by root), sent by the sidecar after each leaf
 * @param privateKey the signing CA's key
 */
public record MintedCa(X509Certificate root, X509Certificate certificate, PrivateKey privateKey) {

  /** The signing CA certificate. */
  public String certificatePem() {
    return Pem.encode(certificate);
  }

  public String rootPem() {
    return Pem.encode(root);
  }

  /** PKCS#8 PEM: goes into the sidecar-only Secret and nowhere else. */
  public String privateKeyPem() {
    return Pem.encode(privateKey);
  }

  /** Fingerprint of the root: the pod CA as agents see it (pod annotation, events). */
  public String fingerprint() {
    return Pem.fingerprint(root);
  }

  @Override
  public String toString() {
    return "MintedCa["
        + certificate.getSubjectX500Principal().getName()
        + ", "
        + fingerprint()
        + "]";
  }
}
