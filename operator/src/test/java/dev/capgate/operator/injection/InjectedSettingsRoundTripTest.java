package dev.capgate.operator.injection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.InjectedSettings;
import dev.capgate.api.sidecar.PlaceholderFormat;
import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.sidecar.SidecarPorts;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HostAliasBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The operator writes, the sidecar reads: what the webhook puts into {@code capgate-proxy}'s and
 * {@code capgate-init}'s environment is read back by the sidecar's own parser ({@link
 * InjectedSettings#read}, {@link dev.capgate.api.sidecar.SidecarPorts#read}) into exactly what the
 * operator meant, and the placeholders file into exactly the agent containers' placeholders.
 */
class InjectedSettingsRoundTripTest {
  private static final SidecarSettings WITH_EVERYTHING =
      new SidecarSettings(
              "capgate/sidecar:test",
              "IfNotPresent",
              "https://vault.vault.svc:8200",
              "capgate",
              3600,
              Map.of("cpu", "50m"),
              Map.of("cpu", "1"),
              "internal-cas")
          .withOperator("https://10.96.0.20:443", InjectionFixtures.OPERATOR_CA);

  @Test
  void theSidecarReadsWhatTheWebhookMeant() {
    Pod pod =
        new PodBuilder(InjectionFixtures.pod(InjectionFixtures.resource("/golden/pod.yaml")))
            .editSpec()
            .withHostAliases(
                new HostAliasBuilder().withIp("10.0.0.7").withHostnames("git.corp").build())
            .endSpec()
            .build();
    Pod injected =
        new PodInjector(WITH_EVERYTHING, InjectionFixtures.TRUST_ROOTS)
            .inject(pod, InjectionFixtures.PLAN);

    InjectedSettings read = InjectedSettings.read(values(container(injected, "capgate-proxy")));

    assertThat(read.sessionNamespace()).isEqualTo("agents");
    assertThat(read.sessionName()).isEqualTo("fix-issue-42");
    assertThat(read.vaultAddress()).isEqualTo("https://vault.vault.svc:8200");
    assertThat(read.operatorUrl()).isEqualTo("https://10.96.0.20:443");
    assertThat(read.operatorCaPem()).isEqualTo(InjectionFixtures.OPERATOR_CA);
    assertThat(read.identityTokenFile()).isEqualTo(SidecarContract.TOKEN_FILE);
    assertThat(read.caDir()).isEqualTo(SidecarContract.CA_DIR);
    assertThat(read.leaseConfigMap()).isEqualTo("capgate-leases-fix-issue-42");
    assertThat(read.ports()).isEqualTo(SidecarPorts.DEFAULTS);
    assertThat(read.hostAliasesJson()).contains("10.0.0.7").contains("git.corp");
    assertThat(read.upstreamCaFile()).isEqualTo(SidecarContract.UPSTREAM_CA_FILE);
    // And what it reads is what it would write: nothing lost, nothing added.
    assertThat(read.toEnvValues()).isEqualTo(values(container(injected, "capgate-proxy")));

    // The init container's rules and the sidecar's listeners agree on the uid and ports.
    assertThat(
            SidecarPorts.read(
                name ->
                    java.util.Optional.ofNullable(
                        values(container(injected, "capgate-init")).get(name))))
        .isEqualTo(read.ports());
  }

  @Test
  void thePlaceholdersFileHoldsTheAgentsPlaceholders() {
    String json = Placeholders.json(InjectionFixtures.PLAN_WITH_PLACEHOLDERS.placeholders());
    Map<String, String> read = PlaceholderFormat.parseJson(json);
    Map<String, String> expected = new LinkedHashMap<>();
    InjectionFixtures.PLAN_WITH_PLACEHOLDERS
        .placeholders()
        .forEach(p -> expected.put(p.credential(), p.value()));
    assertThat(read).containsExactlyEntriesOf(expected);

    CredentialPlaceholder fresh =
        Placeholders.generate(
                InjectionFixtures.SERIALIZATION.unmarshal(
                    """
                    credentials:
                    - name: github
                      vault: {path: "secret/data/github", field: token}
                      inject: {type: bearer}
                      placeholder: {env: GH_TOKEN}
                    egress:
                    - {name: api, hosts: [api.github.com], credential: github}
                    """,
                    dev.capgate.api.v1alpha1.AgentSessionSpec.class))
            .getFirst();
    assertThat(PlaceholderFormat.parseJson(Placeholders.json(List.of(fresh))))
        .containsEntry("github", fresh.value());
  }

  private static Container container(Pod pod, String name) {
    return pod.getSpec().getInitContainers().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  /** The literal variables, as the sidecar's process sees them (downward-API ones aside). */
  private static Map<String, String> values(Container c) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar e : c.getEnv()) {
      if (e.getValue() != null) {
        env.put(e.getName(), e.getValue());
      }
    }
    return env;
  }
}
