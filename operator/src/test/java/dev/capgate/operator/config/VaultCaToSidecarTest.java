package dev.capgate.operator.config;

import static dev.capgate.operator.injection.InjectedPods.proxyEnv;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.operator.TestPods;
import dev.capgate.operator.injection.InjectionPlan;
import dev.capgate.operator.injection.PodInjector;
import dev.capgate.operator.injection.TrustRootsRef;
import dev.capgate.testkit.Pki;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart's {@code vault.caCert} reaches the operator as the file {@code CAPGATE_VAULT_CACERT};
 * its PEM goes, unchanged, into every injected sidecar's {@code CAPGATE_VAULT_CA}. Without it the
 * sidecar trusts the JDK's roots and could not reach an https Vault with a private CA at all.
 */
class VaultCaToSidecarTest {
  private static final TrustRootsRef ROOTS = new TrustRootsRef("capgate-trust-roots-test", "00");

  private static final Pki VAULT_CA = new Pki("vault-private-ca");

  @TempDir Path dir;

  @Test
  void theInjectedSidecarCarriesTheOperatorsVaultCa() throws IOException {
    Path file = Files.writeString(dir.resolve("ca.crt"), VAULT_CA.caCertPem());

    OperatorConfig config =
        OperatorConfig.fromEnv(
            Map.of(
                "CAPGATE_VAULT_ADDR",
                "https://vault.vault.svc:8200",
                "CAPGATE_VAULT_CACERT",
                file.toString()));

    assertThat(config.vaultCaCertFile()).isEqualTo(file);
    assertThat(config.sidecar().vaultCaPem()).isEqualToIgnoringWhitespace(VAULT_CA.caCertPem());
    // The operator's own address becomes known later; the CA must survive that step.
    Pod injected =
        new PodInjector(
                config.sidecar().withOperator("https://10.96.0.20:443", "operator-ca"), ROOTS)
            .inject(agentPod(), plan());
    assertThat(proxyEnv(injected))
        .containsEntry(SidecarContract.ENV_VAULT_CA, config.sidecar().vaultCaPem())
        .containsEntry(SidecarContract.ENV_VAULT_ADDR, "https://vault.vault.svc:8200");
  }

  @Test
  void withoutTheSettingTheSidecarGetsNoVaultCa() {
    OperatorConfig config =
        OperatorConfig.fromEnv(Map.of("CAPGATE_VAULT_ADDR", "https://vault.vault.svc:8200"));

    assertThat(config.sidecar().vaultCaPem()).isNull();
    Pod injected = new PodInjector(config.sidecar(), ROOTS).inject(agentPod(), plan());
    assertThat(proxyEnv(injected)).doesNotContainKey(SidecarContract.ENV_VAULT_CA);
  }

  @Test
  void aBadCaFileStopsTheOperatorAtStartNamingTheFile() throws IOException {
    Path missing = dir.resolve("absent.crt");
    assertThatThrownBy(() -> fromCaFile(missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot read the Vault CA file " + missing);

    Path notPem = Files.writeString(dir.resolve("not.crt"), "this is not a certificate\n");
    assertThatThrownBy(() -> fromCaFile(notPem))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(notPem.toString())
        .hasMessageContaining("CAPGATE_VAULT_CACERT");

    Path empty = Files.writeString(dir.resolve("empty.crt"), "");
    assertThatThrownBy(() -> fromCaFile(empty))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no certificate in the Vault CA file " + empty);
  }

  /** The PEM is copied into every pod object: a whole bundle of public roots is refused. */
  @Test
  void aBundleTooLargeForEveryPodIsRefused() throws IOException {
    StringBuilder bundle = new StringBuilder();
    while (bundle.length() <= VaultCaPem.MAX_BYTES) {
      bundle.append(new Pki("root-" + bundle.length()).caCertPem());
    }
    Path file = Files.writeString(dir.resolve("bundle.crt"), bundle);

    assertThatThrownBy(() -> fromCaFile(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more than " + VaultCaPem.MAX_BYTES)
        .hasMessageContaining("copied into every injected pod");
  }

  private static OperatorConfig fromCaFile(Path file) {
    return OperatorConfig.fromEnv(
        Map.of(
            "CAPGATE_VAULT_ADDR",
            "https://vault.vault.svc:8200",
            "CAPGATE_VAULT_CACERT",
            file.toString()));
  }

  private static Pod agentPod() {
    return TestPods.agent().build();
  }

  private static InjectionPlan plan() {
    return new InjectionPlan(
        "agents",
        "fix-issue-42",
        "capgate-ca-test0test0",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        "capgate-leases-fix-issue-42",
        java.util.List.of());
  }
}
