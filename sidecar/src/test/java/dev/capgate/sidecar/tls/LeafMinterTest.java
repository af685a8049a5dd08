package dev.capgate.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.testkit.Pki;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

public class LeafMinterTest {
  private static final Pki PKI = new Pki("capgate pod CA (test)");

  public static PodCa testCa() throws Exception {
    var key =
        java.security.KeyFactory.getInstance("EC")
            .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(pemBody(PKI.caKeyPem())));
    return new PodCa(PKI.caCertificate(), key);
  }

  private static byte[] pemBody(String pem) throws Exception {
    try (var parser = new org.bouncycastle.openssl.PEMParser(new java.io.StringReader(pem))) {
      Object o = parser.readObject();
      if (o instanceof org.bouncycastle.openssl.PEMKeyPair pair) {
        return pair.getPrivateKeyInfo().getEncoded();
      }
      return ((org.bouncycastle.asn1.pkcs.PrivateKeyInfo) o).getEncoded();
    }
  }

  @Test
  void a_leaf_names_the_host_alone_and_chains_to_the_pod_ca() throws Exception {
    PodCa ca = testCa();
    Leaf leaf = new LeafMinter(ca, Clock.systemUTC()).mint("api.github.test");
    X509Certificate cert = leaf.certificate();
    cert.verify(ca.certificate().getPublicKey());
    assertThat(cert.getSubjectAlternativeNames()).containsExactly(List.of(2, "api.github.test"));
    assertThat(cert.getPublicKey()).isInstanceOf(ECPublicKey.class);
    assertThat(((ECPublicKey) cert.getPublicKey()).getParams().getCurve().getField().getFieldSize())
        .isEqualTo(256);
    assertThat(cert.getBasicConstraints()).isEqualTo(-1);
    assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()))
        .isLessThanOrEqualTo(LeafMinter.LEAF_VALIDITY.plusMinutes(5));
  }

  @Test
  void a_leaf_never_outlives_its_ca() throws Exception {
    PodCa ca = testCa();
    Instant almostExpired = ca.notAfter().minus(Duration.ofMinutes(10));
    Leaf leaf = new LeafMinter(ca, Clock.fixed(almostExpired, ZoneOffset.UTC)).mint("a.test");
    assertThat(leaf.notAfter())
        .isEqualTo(ca.notAfter().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    assertThat(leaf.certificate().getNotBefore().toInstant())
        .isAfterOrEqualTo(ca.notBefore().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
  }

  @Test
  void an_expired_ca_mints_nothing() throws Exception {
    PodCa ca = testCa();
    LeafMinter minter =
        new LeafMinter(ca, Clock.fixed(ca.notAfter().plusSeconds(1), ZoneOffset.UTC));
    assertThatThrownBy(() -> minter.mint("a.test")).hasMessageContaining("expired");
  }

  /** Measures the mint cost that decides whether minting may run on an event loop (it does not). */
  @Test
  void mint_cost_is_reported() throws Exception {
    LeafMinter minter = new LeafMinter(testCa(), Clock.systemUTC());
    long cold = System.nanoTime();
    minter.mint("cold.test");
    cold = System.nanoTime() - cold;
    for (int i = 0; i < 200; i++) {
      minter.mint("warm" + i + ".test");
    }
    int n = 200;
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      minter.mint("h" + i + ".test");
    }
    double warmMs = (System.nanoTime() - t0) / 1e6 / n;
    System.out.printf("leaf mint: first %.2f ms, warm %.3f ms each%n", cold / 1e6, warmMs);
    assertThat(warmMs).isLessThan(50);
  }
}
