package dev.capgate.operator.ca;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Mints the small CA of one pod (invariant 8): EC P-256, valid no longer than the session (and
 * never longer than a configured maximum), name constraints for the session's intercepted hosts.
 *
 * <p>Two certificates, because of how clients treat trust anchors: RFC 5280 path validation does
 * not apply a trust anchor's own extensions, and the JDK (whose default trust manager builds its
 * anchors without constraints) ignores name constraints and validity of a trusted root. So agents
 * trust a <em>root</em> whose key signs one <em>signing CA</em> ({@code pathLen 0}, the same name
 * constraints and validity) and is then thrown away: no one can sign anything else under that root.
 * The sidecar holds the signing CA's key and sends the signing certificate after each leaf; every
 * client — OpenSSL, Go, the JDK — then enforces the constraints and the expiry.
 */
public final class PodCaMinter {
  /** Tolerates a node clock slightly behind the operator's. */
  static final Duration BACKDATE = Duration.ofMinutes(1);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Clock clock;
  private final Duration maxValidity;
  private final EcKeyPool keys;

  /** Generates both key pairs of a mint when it mints. */
  public PodCaMinter(Clock clock, Duration maxValidity) {
    this(clock, maxValidity, EcKeyPool.none());
  }

  /**
   * @param keys where the key pairs come from: the webhook's pool keeps their generation out of the
   *     admission call
   */
  public PodCaMinter(Clock clock, Duration maxValidity, EcKeyPool keys) {
    this.clock = clock;
    this.maxValidity = maxValidity;
    this.keys = keys;
  }

  /**
   * @param commonName the subject CN (the name of the Secret that holds the key: findable)
   * @param hostPatterns intercepted hosts ({@code api.x.com}, {@code *.x.com})
   * @param sessionExpiry when the session expires, or null for a session without ttl
   * @throws IllegalArgumentException if the session has already expired
   */
  public MintedCa mint(String commonName, List<String> hostPatterns, Instant sessionExpiry) {
    return mintRoot(commonName, hostPatterns, sessionExpiry).complete();
  }

  /**
   * A minted root whose signing CA is not signed yet: what the pod spec needs (the root's
   * fingerprint) without the second signature, the signing CA's certificate and their PEM, which
   * only the CA Secret needs and the webhook makes after its answer (issue 13). The root's key is
   * held until {@link #complete()} and then dropped with this object.
   */
  public final class Root {
    private final X509Certificate certificate;
    private KeyPair keys;
    private final String commonName;
    private final org.bouncycastle.asn1.x509.NameConstraints constraints;
    private final Date from;
    private final Date until;
    private MintedCa completed;

    private Root(
        X509Certificate certificate,
        KeyPair keys,
        String commonName,
        org.bouncycastle.asn1.x509.NameConstraints constraints,
        Date from,
        Date until) {
      this.certificate = certificate;
      this.keys = keys;
      this.commonName = commonName;
      this.constraints = constraints;
      this.from = from;
      this.until = until;
    }

    /** The certificate agents trust. */
    public X509Certificate certificate() {
      return certificate;
    }

    /** The root's fingerprint: the pod CA as agents see it ({@link MintedCa#fingerprint()}). */
    public String fingerprint() {
      return Pem.fingerprint(certificate);
    }

    /** Signs the signing CA under this root (once; later calls return the same CA). */
    public synchronized MintedCa complete() {
      if (completed == null) {
        completed = signingCa(this);
        keys = null; // the root's key signs nothing else
      }
      return completed;
    }
  }

  /** The first half of {@link #mint}: the root, self-signed. */
  public Root mintRoot(String commonName, List<String> hostPatterns, Instant sessionExpiry) {
    Instant now = clock.instant();
    Instant notAfter = now.plus(maxValidity);
    if (sessionExpiry != null && sessionExpiry.isBefore(notAfter)) {
      notAfter = sessionExpiry;
    }
    if (!notAfter.isAfter(now)) {
      throw new IllegalArgumentException(
          "the session expired at " + sessionExpiry + ": no CA is minted for it");
    }
    try {
      Date from = Date.from(now.minus(BACKDATE));
      Date until = Date.from(notAfter);
      var constraints = HostConstraints.nameConstraints(hostPatterns);
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();

      // The root: what agents trust. Its key signs the signing CA below and is then dropped.
      KeyPair rootKeys = keys.take();
      X500Name rootName = name(commonName + " root");
      X509v3CertificateBuilder root =
          new JcaX509v3CertificateBuilder(
              rootName, serialNumber(), from, until, rootName, rootKeys.getPublic());
      root.addExtension(Extension.basicConstraints, true, new BasicConstraints(1));
      root.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      root.addExtension(Extension.nameConstraints, true, constraints);
      root.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          utils.createSubjectKeyIdentifier(rootKeys.getPublic()));
      return new Root(sign(root, rootKeys), rootKeys, commonName, constraints, from, until);
    } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
      throw new IllegalStateException("could not mint a pod CA", e);
    }
  }

  private MintedCa signingCa(Root issuer) {
    try {
      X509Certificate rootCert = issuer.certificate;
      KeyPair rootKeys = issuer.keys;
      String commonName = issuer.commonName;
      var constraints = issuer.constraints;
      Date from = issuer.from;
      Date until = issuer.until;
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      // The signing CA: its key goes to the sidecar. Being an intermediate, its constraints and
      // validity are checked by every client, the JDK included.
      KeyPair signingKeys = keys.take();
      X509v3CertificateBuilder signing =
          new JcaX509v3CertificateBuilder(
              rootCert, serialNumber(), from, until, name(commonName), signingKeys.getPublic());
      signing.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      signing.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      signing.addExtension(Extension.nameConstraints, true, constraints);
      signing.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          utils.createSubjectKeyIdentifier(signingKeys.getPublic()));
      signing.addExtension(
          Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(rootCert));
      X509Certificate signingCert = sign(signing, rootKeys);
      return new MintedCa(rootCert, signingCert, signingKeys.getPrivate());
    } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
      throw new IllegalStateException("could not mint a pod CA", e);
    }
  }

  private static X500Name name(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, "capgate.dev")
        .addRDN(BCStyle.CN, commonName)
        .build();
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer)
      throws GeneralSecurityException, OperatorCreationException {
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
  }

  /** 128 random bits, positive: unique without coordination (RFC 5280 allows up to 20 octets). */
  static BigInteger serialNumber() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return new BigInteger(1, bytes);
  }
}
