package dev.capgate.operator.ca;

import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The webhook's own TLS: a self-signed CA (its certificate is the caBundle the API server trusts)
 * and a serving certificate it signs. Both EC P-256.
 */
public final class ServingCertificates {
  private ServingCertificates() {}

  /** A serving certificate and the CA that signed it, as PEM. */
  public record Issued(String caCertPem, String certPem, String keyPem, Instant notAfter) {
    @Override
    public String toString() {
      return "ServingCertificates.Issued[notAfter=" + notAfter + "]";
    }
  }

  /**
   * @param names DNS names and IP literals the server answers on
   */
  public static Issued issue(List<String> names, Duration validity) {
    try {
      Instant now = Instant.now();
      Instant notAfter = now.plus(validity);
      KeyPair caKeys = ecKeys();
      X500Name caName = new X500Name("O=capgate.dev,CN=capgate webhook CA");
      X509v3CertificateBuilder ca =
          new JcaX509v3CertificateBuilder(
              caName,
              PodCaMinter.serialNumber(),
              Date.from(now.minus(PodCaMinter.BACKDATE)),
              Date.from(notAfter),
              caName,
              caKeys.getPublic());
      ca.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      ca.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      ca.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          new JcaX509ExtensionUtils().createSubjectKeyIdentifier(caKeys.getPublic()));
      X509Certificate caCert = sign(ca, caKeys.getPrivate());

      KeyPair serverKeys = ecKeys();
      X509v3CertificateBuilder server =
          new JcaX509v3CertificateBuilder(
              caCert,
              PodCaMinter.serialNumber(),
              Date.from(now.minus(PodCaMinter.BACKDATE)),
              Date.from(notAfter),
              new X500Name("O=capgate.dev,CN=" + names.getFirst()),
              serverKeys.getPublic());
      server.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      server.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      server.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      server.addExtension(Extension.subjectAlternativeName, false, subjectAltNames(names));
      X509Certificate serverCert = sign(server, caKeys.getPrivate());
      return new Issued(
          Pem.encode(caCert),
          Pem.encode(serverCert),
          Pem.encode(serverKeys.getPrivate()),
          notAfter);
    } catch (GeneralSecurityException
        | java.io.IOException
        | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException("could not issue the webhook serving certificate", e);
    }
  }

  private static GeneralNames subjectAltNames(List<String> names)
      throws java.net.UnknownHostException {
    List<GeneralName> sans = new ArrayList<>();
    for (String name : names) {
      boolean ip = name.matches("[0-9.]+") || name.contains(":");
      sans.add(
          ip
              ? new GeneralName(GeneralName.iPAddress, InetAddress.ofLiteral(name).getHostAddress())
              : new GeneralName(GeneralName.dNSName, name));
    }
    return new GeneralNames(sans.toArray(GeneralName[]::new));
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws GeneralSecurityException, org.bouncycastle.operator.OperatorCreationException {
    return new JcaX509CertificateConverter()
        .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
  }
}
