package dev.capgate.operator.ca;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBMPString;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.pkcs.PKCS12PfxPduBuilder;
import org.bouncycastle.pkcs.PKCS12SafeBag;
import org.bouncycastle.pkcs.jcajce.JcaPKCS12SafeBagBuilder;

/**
 * What agent containers trust: the system roots (so passthrough hosts keep working) plus the pod CA
 * (so intercepted hosts verify), as PEM for OpenSSL/Python/Go/curl/git and as a password-less
 * PKCS#12 truststore for Java.
 *
 * <p>Java reads a PKCS#12 file without MAC and encryption (what JDK 18+ itself writes for a null
 * store password) with {@code -Djavax.net.ssl.trustStoreType=PKCS12} and no {@code
 * trustStorePassword}.
 */
public final class TrustBundle {
  /** Debian/Ubuntu/Alpine's bundle; elsewhere the JDK's own cacerts are used. */
  public static final Path DEBIAN_BUNDLE = Path.of("/etc/ssl/certs/ca-certificates.crt");

  /**
   * Oracle's "trusted for any purpose" bag attribute: how the JDK tells a trusted certificate
   * entry.
   */
  private static final ASN1ObjectIdentifier JDK_TRUSTED_KEY_USAGE =
      new ASN1ObjectIdentifier("2.16.840.1.113894.746875.1.1");

  private final List<X509Certificate> roots;
  private final String rootsPem;

  /** The roots' PKCS#12 bags, built once: per pod only the pod CA's bag is new. */
  private final List<PKCS12SafeBag> rootBags;

  private TrustBundle(List<X509Certificate> roots) {
    this.roots = List.copyOf(roots);
    StringBuilder pem = new StringBuilder();
    List<PKCS12SafeBag> bags = new ArrayList<>();
    for (int i = 0; i < roots.size(); i++) {
      pem.append(Pem.encode(roots.get(i)));
      bags.add(trustedBag(roots.get(i), "root-" + i));
    }
    this.rootsPem = pem.toString();
    this.rootBags = List.copyOf(bags);
  }

  /** Roots from a PEM bundle file, or, when {@code pemBundle} is null or absent, the JDK's. */
  public static TrustBundle systemRoots(Path pemBundle) {
    if (pemBundle != null && Files.isReadable(pemBundle)) {
      try (InputStream in = Files.newInputStream(pemBundle)) {
        return of(CertificateFactory.getInstance("X.509").generateCertificates(in));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("cannot read the CA bundle " + pemBundle, e);
      }
    }
    try {
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init((KeyStore) null);
      X509TrustManager jdk =
          (X509TrustManager)
              Arrays.stream(factory.getTrustManagers())
                  .filter(X509TrustManager.class::isInstance)
                  .findFirst()
                  .orElseThrow();
      return new TrustBundle(List.of(jdk.getAcceptedIssuers()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot read the JDK's trusted roots", e);
    }
  }

  /** A bundle of exactly these roots (tests; an empty list is allowed). */
  public static TrustBundle of(Collection<? extends java.security.cert.Certificate> roots) {
    List<X509Certificate> x509 = new ArrayList<>();
    for (var c : roots) {
      x509.add((X509Certificate) c);
    }
    return new TrustBundle(x509);
  }

  /** The roots alone, as PEM: what every pod's bundle has after its pod CA. */
  public String rootsPem() {
    return rootsPem;
  }

  public int size() {
    return roots.size();
  }

  /** The pod CA first, then the system roots. */
  public String pem(X509Certificate podCa) {
    return Pem.encode(podCa) + rootsPem;
  }

  /**
   * A password-less PKCS#12 truststore of the pod CA and the system roots: no MAC, certificates
   * unencrypted (they are public), each bag marked trusted the way the JDK's own keystore does.
   */
  public byte[] pkcs12(X509Certificate podCa) {
    try {
      PKCS12PfxPduBuilder pfx =
          new PKCS12PfxPduBuilder().addData(trustedBag(podCa, "capgate-pod-ca"));
      for (PKCS12SafeBag bag : rootBags) {
        pfx.addData(bag);
      }
      return pfx.build(null, null).getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (org.bouncycastle.pkcs.PKCSException e) {
      throw new IllegalStateException("cannot write the PKCS#12 truststore", e);
    }
  }

  private static PKCS12SafeBag trustedBag(X509Certificate certificate, String alias) {
    try {
      return new JcaPKCS12SafeBagBuilder(certificate)
          .addBagAttribute(PKCSObjectIdentifiers.pkcs_9_at_friendlyName, new DERBMPString(alias))
          .addBagAttribute(JDK_TRUSTED_KEY_USAGE, KeyPurposeId.anyExtendedKeyUsage.toOID())
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
