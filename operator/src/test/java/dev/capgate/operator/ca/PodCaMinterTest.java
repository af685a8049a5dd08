package dev.capgate.operator.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** Invariant 8: small, short-lived, name-constrained — and what clients make of it (JDK PKIX). */
class PodCaMinterTest {
  private static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");
  private final PodCaMinter minter =
      new PodCaMinter(Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofHours(720));

  @Test
  void theRootFirstAndItsSigningCaLater() throws Exception {
    PodCaMinter.Root root = minter.mintRoot("capgate-ca-test", List.of("api.github.com"), null);

    MintedCa ca = root.complete();

    // What the pod spec got before the signing CA existed names the CA the Secret carries.
    assertThat(ca.root()).isSameAs(root.certificate());
    assertThat(ca.fingerprint()).isEqualTo(root.fingerprint());
    ca.certificate().verify(root.certificate().getPublicKey());
    assertThat(root.complete()).isSameAs(ca);
  }

  @Test
  void mintsAnEcP256Key() {
    MintedCa ca = minter.mint("capgate-ca-test", List.of("api.github.com"), null);
    assertThat(ca.certificate().getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(
            ((ECPublicKey) ca.certificate().getPublicKey())
                .getParams()
                .getCurve()
                .getField()
                .getFieldSize())
        .isEqualTo(256);
    assertThat(ca.certificate().getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(ca.privateKeyPem()).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(ca.toString()).doesNotContain("PRIVATE").contains(ca.fingerprint());
    assertThat(ca.fingerprint()).matches("sha256:[0-9a-f]{64}");
  }

  @Test
  void validityEndsWithTheSession() {
    Instant expiry = NOW.plus(Duration.ofMinutes(90));
    X509Certificate cert =
        minter.mint("capgate-ca-test", List.of("api.github.com"), expiry).certificate();
    assertThat(cert.getNotAfter().toInstant()).isEqualTo(expiry.truncatedTo(ChronoUnit.SECONDS));
    assertThat(cert.getNotBefore().toInstant()).isEqualTo(NOW.minus(PodCaMinter.BACKDATE));
  }

  @Test
  void validityIsCappedWithoutTtl() {
    X509Certificate cert =
        minter.mint("capgate-ca-test", List.of("api.github.com"), null).certificate();
    assertThat(cert.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofHours(720)));
  }

  @Test
  void refusesAnExpiredSession() {
    assertThatThrownBy(() -> minter.mint("capgate-ca-test", List.of("a.b"), NOW.minusSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expired");
  }

  @Test
  void theRootSignedOnlyTheSigningCa() throws Exception {
    MintedCa ca = minter.mint("capgate-ca-test", List.of("api.github.com"), null);
    ca.certificate().verify(ca.root().getPublicKey());
    assertThat(ca.root().getBasicConstraints()).isEqualTo(1);
    assertThat(ca.root().getSubjectX500Principal())
        .isEqualTo(ca.certificate().getIssuerX500Principal());
    assertThat(ca.root().getNotAfter()).isEqualTo(ca.certificate().getNotAfter());
    assertThat(ca.root().getCriticalExtensionOIDs()).contains(Extension.nameConstraints.getId());
    assertThat(ca.fingerprint()).isEqualTo(Pem.fingerprint(ca.root()));
  }

  @Test
  void isACaThatSignsLeavesOnly() {
    X509Certificate cert =
        minter.mint("capgate-ca-test", List.of("api.github.com"), null).certificate();
    assertThat(cert.getBasicConstraints()).isEqualTo(0);
    boolean[] usage = cert.getKeyUsage();
    assertThat(usage[5]).as("keyCertSign").isTrue();
    assertThat(usage[0]).as("digitalSignature").isFalse();
    assertThat(cert.getCriticalExtensionOIDs())
        .contains(
            Extension.basicConstraints.getId(),
            Extension.keyUsage.getId(),
            Extension.nameConstraints.getId());
    assertThat(cert.getSubjectX500Principal().getName()).contains("CN=capgate-ca-test");
  }

  @Test
  void nameConstraintsPermitTheInterceptedHostsOnly() {
    X509Certificate cert =
        minter
            .mint(
                "capgate-ca-test",
                List.of("api.github.com", "*.example.com", "api.github.com"),
                null)
            .certificate();
    NameConstraints constraints =
        NameConstraints.getInstance(
            ASN1OctetString.getInstance(cert.getExtensionValue(Extension.nameConstraints.getId()))
                .getOctets());
    assertThat(names(constraints.getPermittedSubtrees()))
        .containsExactly("2:api.github.com", "2:.example.com");
    assertThat(constraints.getExcludedSubtrees())
        .hasSize(2)
        .allSatisfy(s -> assertThat(s.getBase().getTagNo()).isEqualTo(GeneralName.iPAddress));
  }

  @Test
  void aSessionInterceptingNothingGetsACaThatSignsNothing() {
    MintedCa ca = minter.mint("capgate-ca-test", List.of(), null);
    assertThat(HostConstraints.permittedDnsSubtrees(List.of())).containsExactly("invalid");
    assertThat(validates(ca, "api.github.com", NOW)).isFalse();
  }

  @Test
  void clientsAcceptLeavesForInterceptedHosts() {
    MintedCa ca = minter.mint("capgate-ca-test", List.of("api.github.com", "*.example.com"), null);
    assertThat(validates(ca, "api.github.com", NOW)).isTrue();
    assertThat(validates(ca, "git.example.com", NOW)).isTrue();
    assertThat(validates(ca, "a.b.example.com", NOW)).isTrue();
  }

  @Test
  void clientsRejectLeavesForOtherHosts() {
    MintedCa ca = minter.mint("capgate-ca-test", List.of("api.github.com", "*.example.com"), null);
    assertThat(validates(ca, "github.com", NOW)).isFalse();
    assertThat(validates(ca, "evil.com", NOW)).isFalse();
    assertThat(validates(ca, "example.com", NOW))
        .as("*.example.com does not cover example.com")
        .isFalse();
    assertThat(validates(ca, "notexample.com", NOW)).isFalse();
    assertThat(validatesIp(ca, "10.0.0.1")).isFalse();
  }

  @Test
  void clientsRejectLeavesAfterTheSessionExpired() {
    MintedCa ca =
        minter.mint("capgate-ca-test", List.of("api.github.com"), NOW.plus(Duration.ofHours(1)));
    assertThat(validates(ca, "api.github.com", NOW.plus(Duration.ofMinutes(59)))).isTrue();
    assertThat(validates(ca, "api.github.com", NOW.plus(Duration.ofMinutes(61)))).isFalse();
  }

  private static List<String> names(GeneralSubtree[] subtrees) {
    return java.util.Arrays.stream(subtrees)
        .map(s -> s.getBase().getTagNo() + ":" + s.getBase().getName())
        .toList();
  }

  /**
   * What the sidecar will do: a leaf for one name, signed by the pod CA; then JDK PKIX validation.
   */
  static boolean validates(MintedCa ca, String host, Instant at) {
    return validate(ca, new GeneralName(GeneralName.dNSName, host), at);
  }

  static boolean validatesIp(MintedCa ca, String ip) {
    return validate(ca, new GeneralName(GeneralName.iPAddress, ip), NOW);
  }

  private static boolean validate(MintedCa ca, GeneralName san, Instant at) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair leafKeys = generator.generateKeyPair();
      var builder =
          new JcaX509v3CertificateBuilder(
              ca.certificate(),
              BigInteger.TWO,
              Date.from(NOW.minusSeconds(30)),
              Date.from(NOW.plus(Duration.ofDays(400))),
              new X500Name("CN=leaf"),
              leafKeys.getPublic());
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san));
      X509Certificate leaf =
          new JcaX509CertificateConverter()
              .getCertificate(
                  builder.build(
                      new JcaContentSignerBuilder("SHA256withECDSA").build(ca.privateKey())));
      // As the JDK's default trust manager does: the root as anchor, without its constraints.
      PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca.root(), null)));
      parameters.setRevocationEnabled(false);
      parameters.setDate(Date.from(at));
      CertPathValidator.getInstance("PKIX")
          .validate(
              CertificateFactory.getInstance("X.509")
                  .generateCertPath(List.of(leaf, ca.certificate())),
              parameters);
      return true;
    } catch (CertPathValidatorException e) {
      return false;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
