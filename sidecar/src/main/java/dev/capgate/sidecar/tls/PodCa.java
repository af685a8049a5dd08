package dev.capgate.sidecar.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The per-pod CA the operator minted for this pod (ca.crt / ca.key, mounted into the sidecar
 * alone). Only this class and {@link LeafMinter} touch the key.
 */
public final class PodCa {
  private final X509Certificate certificate;
  private final PrivateKey key;

  public PodCa(X509Certificate certificate, PrivateKey key) {
    this.certificate = certificate;
    this.key = key;
  }

  /**
   * @throws IOException naming the file that is missing, unreadable or not the expected PEM
   */
  public static PodCa load(Path certFile, Path keyFile) throws IOException {
    X509Certificate cert;
    try (Reader reader = Files.newBufferedReader(certFile);
        PEMParser pem = new PEMParser(reader)) {
      Object first = pem.readObject();
      if (!(first instanceof X509CertificateHolder holder)) {
        throw new IOException(certFile + " does not start with a PEM CERTIFICATE");
      }
      cert = new JcaX509CertificateConverter().getCertificate(holder);
    } catch (CertificateException e) {
      throw new IOException(certFile + " holds an unreadable certificate: " + e.getMessage(), e);
    }
    PrivateKey key;
    try (Reader reader = Files.newBufferedReader(keyFile);
        PEMParser pem = new PEMParser(reader)) {
      Object object = pem.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (object instanceof PEMKeyPair pair) { // SEC1 "EC PRIVATE KEY" / PKCS#1
        key = converter.getKeyPair(pair).getPrivate();
      } else if (object instanceof PrivateKeyInfo info) { // PKCS#8 "PRIVATE KEY"
        key = converter.getPrivateKey(info);
      } else {
        // Never echo the file's content: it is key material.
        throw new IOException(keyFile + " is not a PEM private key");
      }
    }
    if (cert.getBasicConstraints() < 0) {
      throw new IOException(certFile + " is not a CA certificate (basicConstraints CA:false)");
    }
    return new PodCa(cert, key);
  }

  public X509Certificate certificate() {
    return certificate;
  }

  PrivateKey key() {
    return key;
  }

  public Instant notBefore() {
    return certificate.getNotBefore().toInstant();
  }

  public Instant notAfter() {
    return certificate.getNotAfter().toInstant();
  }
}
