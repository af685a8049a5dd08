package dev.capgate.sidecar.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.testkit.Pki;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Collections;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * capgate-init writes the agents' trust files from the namespace's shared roots and the pod's CA
 * root, and only when both are the ones the webhook chose (attacker: someone who may write
 * ConfigMaps or Secrets in the namespace swaps the shared roots or the pod CA before the pod
 * starts).
 */
class AgentTrustTest {
  @TempDir Path dir;

  private final Pki systemA = new Pki("system root A");
  private final Pki systemB = new Pki("system root B");
  private final Pki podCa = new Pki("capgate pod CA");

  @Test
  void writesThePodCaThenTheRootsAsPemAndAsAPasswordLessTruststore() throws Exception {
    String roots = systemA.caCertPem() + systemB.caCertPem();
    Path rootsFile = Files.writeString(dir.resolve("roots.pem"), roots);
    Path caFile = Files.writeString(dir.resolve("root.crt"), podCa.caCertPem());
    Path out = Files.createDirectory(dir.resolve("trust"));

    int written =
        new AgentTrust(
                rootsFile,
                AgentTrust.sha256Hex(roots.getBytes(StandardCharsets.UTF_8)),
                caFile,
                AgentTrust.fingerprint(podCa.caCertificate()),
                out)
            .write();

    assertThat(written).isEqualTo(2);
    assertThat(Files.readString(out.resolve("pod-ca.crt"))).isEqualTo(podCa.caCertPem());
    assertThat(Files.readString(out.resolve("ca-bundle.pem"))).isEqualTo(podCa.caCertPem() + roots);
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(out.resolve("truststore.p12"))) {
      store.load(in, null); // what the JDK does without javax.net.ssl.trustStorePassword
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(store);
    X509TrustManager trust = (X509TrustManager) tmf.getTrustManagers()[0];
    assertThat(trust.getAcceptedIssuers())
        .containsExactlyInAnyOrder(
            podCa.caCertificate(), systemA.caCertificate(), systemB.caCertificate());
    assertThat(Collections.list(store.aliases())).hasSize(3);
    assertThat(Files.getPosixFilePermissions(out.resolve("ca-bundle.pem")).toString())
        .isEqualTo("[OWNER_READ, OWNER_WRITE, GROUP_READ, OTHERS_READ]");
  }

  @Test
  void swappedSharedRootsStopThePodBeforeAnyAgentRuns() throws Exception {
    String chosen = systemA.caCertPem();
    Pki attacker = new Pki("attacker root");
    Path rootsFile =
        Files.writeString(dir.resolve("roots.pem"), systemA.caCertPem() + attacker.caCertPem());
    Path caFile = Files.writeString(dir.resolve("root.crt"), podCa.caCertPem());
    Path out = Files.createDirectory(dir.resolve("trust"));

    assertThatThrownBy(
            () ->
                new AgentTrust(
                        rootsFile,
                        AgentTrust.sha256Hex(chosen.getBytes(StandardCharsets.UTF_8)),
                        caFile,
                        AgentTrust.fingerprint(podCa.caCertificate()),
                        out)
                    .write())
        .isInstanceOf(RulesApplier.InitFailure.class)
        .hasMessageContaining("are not the ones the webhook chose");
    assertThat(out).isEmptyDirectory();
  }

  @Test
  void anotherPodCaStopsThePod() throws Exception {
    String roots = systemA.caCertPem();
    Pki other = new Pki("another pod's CA");
    Path rootsFile = Files.writeString(dir.resolve("roots.pem"), roots);
    Path caFile = Files.writeString(dir.resolve("root.crt"), other.caCertPem());
    Path out = Files.createDirectory(dir.resolve("trust"));

    assertThatThrownBy(
            () ->
                new AgentTrust(
                        rootsFile,
                        AgentTrust.sha256Hex(roots.getBytes(StandardCharsets.UTF_8)),
                        caFile,
                        AgentTrust.fingerprint(podCa.caCertificate()),
                        out)
                    .write())
        .isInstanceOf(RulesApplier.InitFailure.class)
        .hasMessageContaining("is not this pod's");
    assertThat(out).isEmptyDirectory();
  }
}
