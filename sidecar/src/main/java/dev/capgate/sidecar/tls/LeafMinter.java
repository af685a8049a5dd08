package dev.capgate.sidecar.tls;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
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
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Mints the leaf the agent sees for an intercepted host: EC P-256, SAN = that host only, valid for
 * a short time and never outside the CA's own validity (a leaf must not outlive its session). A
 * fresh key per leaf: P-256 keys cost a quarter of a millisecond.
 */
public final class LeafMinter {
  /** How long a leaf lives; the cache renews it well before. */
  public static final Duration LEAF_VALIDITY = Duration.ofHours(24);

  /** Tolerates agents whose clock is a little behind. */
  private static final Duration BACKDATE = Duration.ofMinutes(5);

  private final PodCa ca;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final X500Name issuer;
  private final String signatureAlgorithm;

  public LeafMinter(PodCa ca, Clock clock) {
    this.ca = ca;
    this.clock = clock;
    this.issuer = X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded());
    this.signatureAlgorithm =
        "EC".equals(ca.key().getAlgorithm()) ? "SHA256withECDSA" : "SHA256withRSA";
  }

  /**
   * @throws IllegalStateException when the CA has expired (the session is over: deny)
   */
  public Leaf mint(String host) {
    Instant now = clock.instant();
    Instant notBefore = max(now.minus(BACKDATE), ca.notBefore());
    Instant notAfter = min(now.plus(LEAF_VALIDITY), ca.notAfter());
    if (!notAfter.isAfter(now)) {
      throw new IllegalStateException(
          "the pod CA expired at " + ca.notAfter() + ": no leaf for " + host);
    }
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), random);
      KeyPair keys = generator.generateKeyPair();
      X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, host).build();
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
                  issuer,
                  new BigInteger(127, random).add(BigInteger.ONE),
                  Date.from(notBefore),
                  Date.from(notAfter),
                  subject,
                  keys.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
              .addExtension(
                  Extension.subjectAlternativeName,
                  false,
                  new GeneralNames(new GeneralName(GeneralName.dNSName, host)))
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  ext.createAuthorityKeyIdentifier(ca.certificate()))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(keys.getPublic()));
      X509Certificate certificate =
          new JcaX509CertificateConverter()
              .getCertificate(
                  builder.build(new JcaContentSignerBuilder(signatureAlgorithm).build(ca.key())));
      return new Leaf(certificate, keys.getPrivate(), ca.certificate());
    } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
      throw new IllegalStateException(
          "could not mint a leaf for " + host + ": " + e.getMessage(), e);
    }
  }

  private static Instant max(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
