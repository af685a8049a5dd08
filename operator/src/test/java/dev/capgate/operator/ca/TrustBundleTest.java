package dev.capgate.operator.ca;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Agents trust the pod CA and the system roots; Java does so with the injected JAVA_TOOL_OPTIONS.
 */
class TrustBundleTest {
  private final MintedCa podCa =
      new PodCaMinter(java.time.Clock.systemUTC(), Duration.ofHours(1))
          .mint("capgate-ca-test", List.of("api.github.com"), null);
  private final TrustBundle systemRoots = TrustBundle.systemRoots(TrustBundle.DEBIAN_BUNDLE);

  @Test
  void pemBundleHoldsThePodCaAndTheSystemRoots() throws Exception {
    String pem = systemRoots.pem(podCa.root());
    var certs =
        CertificateFactory.getInstance("X.509")
            .generateCertificates(
                new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    assertThat(certs).hasSize(systemRoots.size() + 1).first().isEqualTo(podCa.root());
    assertThat(systemRoots.size()).isGreaterThan(10);
  }

  @Test
  void passwordLessPkcs12LoadsWithoutAPassword() throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(new ByteArrayInputStream(systemRoots.pkcs12(podCa.root())), null);
    assertThat(store.size()).isEqualTo(systemRoots.size() + 1);
    assertThat(store.isCertificateEntry("capgate-pod-ca")).isTrue();
    assertThat(store.getCertificate("capgate-pod-ca")).isEqualTo(podCa.root());
  }

  /** A real JVM started with the injected JAVA_TOOL_OPTIONS trusts the pod CA by default. */
  @Test
  void aJvmWithTheInjectedJavaToolOptionsTrustsThePodCa(@TempDir Path dir)
      throws IOException, InterruptedException {
    Path truststore = dir.resolve("truststore.p12");
    Files.write(truststore, TrustBundle.of(List.of()).pkcs12(podCa.root()));
    Path program = dir.resolve("PrintTrust.java");
    Files.writeString(
        program,
        """
        import javax.net.ssl.*;
        public class PrintTrust {
          public static void main(String[] a) throws Exception {
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init((java.security.KeyStore) null);
            for (var c : ((X509TrustManager) f.getTrustManagers()[0]).getAcceptedIssuers()) {
              System.out.println(c.getSubjectX500Principal().getName());
            }
          }
        }
        """);
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                program.toString())
            .redirectErrorStream(true);
    builder
        .environment()
        .put(
            "JAVA_TOOL_OPTIONS",
            "-Xshare:auto -Djavax.net.ssl.trustStore="
                + truststore
                + " -Djavax.net.ssl.trustStoreType=PKCS12");
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(out).isZero();
    assertThat(out).contains("CN=capgate-ca-test root");
  }
}
