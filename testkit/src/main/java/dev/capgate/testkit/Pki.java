package dev.capgate.testkit;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
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
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * The cluster's certificates, minted at start with Bouncy Castle: one CA that signs every serving
 * and client certificate (the apiserver trusts it for client auth, the controller-manager signs
 * CSRs with it), plus the service-account signing key pair.
 *
 * <p>EC P-256 throughout: a key takes a fraction of a millisecond where RSA-2048 takes ~200 ms, and
 * every Kubernetes component accepts it (service-account tokens are then ES256).
 */
public final class Pki {
  private static final Duration VALIDITY = Duration.ofDays(365);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final KeyPair caKeys;
  private final X509Certificate caCert;
  private final KeyPair serviceAccountKeys;

  /** A certificate with its private key, as PEM for files and kubeconfigs. */
  public record Issued(X509Certificate certificate, PrivateKey key) {
    public String certPem() {
      return pem(certificate);
    }

    public String keyPem() {
      return ecKeyPem(key, certificate.getPublicKey());
    }

    /** Writes {@code <base>.crt} and {@code <base>.key} into {@code dir}. */
    public void writeTo(Path dir, String base) {
      write(dir.resolve(base + ".crt"), certPem());
      write(dir.resolve(base + ".key"), keyPem());
    }
  }

  public Pki(String caCommonName) {
    this.caKeys = newKeyPair();
    this.serviceAccountKeys = newKeyPair();
    X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, caCommonName).build();
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          builder(name, name, caKeys)
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(caKeys.getPublic()));
      this.caCert = sign(builder, caKeys.getPrivate());
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("could not create the cluster CA", e);
    }
  }

  public X509Certificate caCertificate() {
    return caCert;
  }

  public String caCertPem() {
    return pem(caCert);
  }

  public String caKeyPem() {
    return ecKeyPem(caKeys.getPrivate(), caKeys.getPublic());
  }

  public String serviceAccountPrivateKeyPem() {
    return ecKeyPem(serviceAccountKeys.getPrivate(), serviceAccountKeys.getPublic());
  }

  public String serviceAccountPublicKeyPem() {
    return pem(serviceAccountKeys.getPublic());
  }

  /**
   * A serving certificate for {@code commonName} valid for the given DNS names and IP addresses.
   */
  public Issued issueServer(String commonName, List<String> dnsNames, List<String> ipAddresses) {
    List<GeneralName> sans = new ArrayList<>();
    dnsNames.forEach(dns -> sans.add(new GeneralName(GeneralName.dNSName, dns)));
    ipAddresses.forEach(ip -> sans.add(new GeneralName(GeneralName.iPAddress, ip)));
    return issue(commonName, List.of(), sans, KeyPurposeId.id_kp_serverAuth);
  }

  /**
   * A client certificate: Kubernetes reads the user from CN and the groups from O (so {@code
   * O=system:masters} is cluster-admin, {@code CN=system:kube-controller-manager} gets that
   * component's bootstrap RBAC role).
   */
  public Issued issueClient(String commonName, String... organizations) {
    return issue(commonName, List.of(organizations), List.of(), KeyPurposeId.id_kp_clientAuth);
  }

  /** Writes ca.crt, ca.key, sa.key and sa.pub into {@code dir}. */
  public void writeCaAndServiceAccountKeys(Path dir) {
    write(dir.resolve("ca.crt"), caCertPem());
    write(dir.resolve("ca.key"), caKeyPem());
    write(dir.resolve("sa.key"), serviceAccountPrivateKeyPem());
    write(dir.resolve("sa.pub"), serviceAccountPublicKeyPem());
  }

  /** TLS for a JDK client: trusts only this CA and, if {@code client} is given, presents it. */
  public SSLContext sslContext(Issued client) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", caCert);
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (client != null) {
        char[] password = "capgate".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry(
            "client", client.key(), password, new X509Certificate[] {client.certificate(), caCert});
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), RANDOM);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("could not build an SSLContext from the cluster CA", e);
    }
  }

  private Issued issue(
      String commonName, List<String> organizations, List<GeneralName> sans, KeyPurposeId purpose) {
    KeyPair keys = newKeyPair();
    X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE);
    organizations.forEach(o -> subject.addRDN(BCStyle.O, o));
    subject.addRDN(BCStyle.CN, commonName);
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          builder(
                  X500Name.getInstance(caCert.getSubjectX500Principal().getEncoded()),
                  subject.build(),
                  keys)
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
              .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  ext.createAuthorityKeyIdentifier(caCert));
      if (!sans.isEmpty()) {
        builder.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(sans.toArray(GeneralName[]::new)));
      }
      return new Issued(sign(builder, caKeys.getPrivate()), keys.getPrivate());
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("could not issue a certificate for " + commonName, e);
    }
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
    // Back-dated a little so a component whose clock reads a second behind still accepts it.
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(
        issuer,
        new BigInteger(127, RANDOM).add(BigInteger.ONE),
        Date.from(now.minus(Duration.ofHours(1))),
        Date.from(now.plus(VALIDITY)),
        subject,
        keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** PEM of a certificate or public key. */
  static String pem(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /**
   * An EC private key as SEC1 "EC PRIVATE KEY" with its curve and public key inside, the form every
   * consumer here reads: Go (Kubernetes, OpenBao), OpenSSL, and Fabric8 — which picks the key
   * algorithm from the PEM header, so a PKCS#8 "PRIVATE KEY" in a kubeconfig is taken for RSA and
   * fails. (The JDK's own encoding drops the curve from the inner structure, so it cannot simply be
   * re-labelled.)
   */
  static String ecKeyPem(PrivateKey key, PublicKey publicKey) {
    ASN1ObjectIdentifier curve =
        (ASN1ObjectIdentifier)
            PrivateKeyInfo.getInstance(key.getEncoded()).getPrivateKeyAlgorithm().getParameters();
    ECPrivateKey sec1 =
        new ECPrivateKey(
            256,
            ((java.security.interfaces.ECPrivateKey) key).getS(),
            SubjectPublicKeyInfo.getInstance(publicKey.getEncoded()).getPublicKeyData(),
            curve);
    StringWriter out = new StringWriter();
    try (PemWriter writer = new PemWriter(out)) {
      writer.writeObject(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  static void write(Path file, String content) {
    try {
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
