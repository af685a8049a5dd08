package dev.capgate.sidecar.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.sidecar.InjectedSettings;
import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.sidecar.SidecarPorts;
import dev.capgate.sidecar.config.SidecarConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The environment the webhook gives the sidecar (notes/sidecar-contract.md) becomes these settings.
 */
class SessionSettingsTest {
  private static final String CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  private static final String VAULT_CA =
      "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";

  @Test
  void reads_the_webhook_s_environment() {
    SessionSettings settings =
        SessionSettings.from(
            SidecarConfig.parse(
                List.of(),
                Map.of(
                    "CAPGATE_SESSION_NAMESPACE", "agents",
                    "CAPGATE_SESSION_NAME", "fix-42",
                    "CAPGATE_VAULT_ADDR", "https://vault:8200",
                    "CAPGATE_VAULT_CA", VAULT_CA,
                    "CAPGATE_OPERATOR_URL", "https://10.96.0.12:443",
                    "CAPGATE_OPERATOR_CA", CA,
                    "CAPGATE_IDENTITY_TOKEN_FILE", "/var/run/secrets/capgate/token/token",
                    "CAPGATE_LEASE_CONFIGMAP", "capgate-leases-fix-42")));

    assertThat(settings)
        .isEqualTo(
            new SessionSettings(
                "agents",
                "fix-42",
                "https://vault:8200",
                VAULT_CA,
                null,
                "https://10.96.0.12:443",
                CA,
                Path.of("/var/run/secrets/capgate/token/token"),
                "capgate-leases-fix-42",
                Duration.ofSeconds(30),
                Duration.ofSeconds(30),
                Duration.ofSeconds(5)));
    assertThat(settings.vaultConfigured()).isTrue();
  }

  @Test
  void defaults_and_overrides() {
    SessionSettings settings =
        SessionSettings.from(
            SidecarConfig.parse(
                List.of("--api-outage-grace", "5s", "--kv-cache-ttl", "1m"),
                Map.of("CAPGATE_SESSION_NAMESPACE", "agents", "CAPGATE_SESSION_NAME", "fix-42")));

    assertThat(settings.identityTokenFile()).isEqualTo(SessionSettings.DEFAULT_IDENTITY_TOKEN_FILE);
    assertThat(settings.leaseConfigMap()).isEqualTo("capgate-leases-fix-42");
    assertThat(settings.apiOutageGrace()).isEqualTo(Duration.ofSeconds(5));
    assertThat(settings.kvCacheTtl()).isEqualTo(Duration.ofMinutes(1));
    assertThat(settings.vaultConfigured()).as("no Vault address, no operator").isFalse();
  }

  @Test
  void without_an_operator_url_there_is_no_vault_login() {
    SessionSettings settings =
        SessionSettings.from(
            SidecarConfig.parse(
                List.of(),
                Map.of(
                    "CAPGATE_SESSION_NAMESPACE",
                    "agents",
                    "CAPGATE_SESSION_NAME",
                    "fix-42",
                    "CAPGATE_VAULT_ADDR",
                    "https://vault:8200",
                    // What the Kubernetes-auth sidecar was given: no longer read, and no login path
                    // left for it.
                    "CAPGATE_VAULT_ROLE",
                    "capgate-agent",
                    "CAPGATE_VAULT_TOKEN_FILE",
                    "/var/run/secrets/capgate/token/token")));

    assertThat(settings.vaultConfigured()).isFalse();
  }

  @Test
  void an_operator_url_needs_the_operator_ca() {
    assertThatThrownBy(
            () ->
                SessionSettings.from(
                    SidecarConfig.parse(
                        List.of(),
                        Map.of(
                            "CAPGATE_SESSION_NAMESPACE",
                            "agents",
                            "CAPGATE_SESSION_NAME",
                            "fix-42",
                            "CAPGATE_OPERATOR_URL",
                            "https://10.96.0.12:443"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CAPGATE_OPERATOR_CA");
  }

  /** Two sources of trust for Vault would leave it unclear which one a connection used. */
  @Test
  void the_injected_vault_ca_and_a_ca_file_exclude_each_other() {
    assertThatThrownBy(
            () ->
                SessionSettings.from(
                    SidecarConfig.parse(
                        List.of("--vault-ca-file", "/etc/vault-ca.pem"),
                        Map.of(
                            "CAPGATE_SESSION_NAMESPACE",
                            "agents",
                            "CAPGATE_SESSION_NAME",
                            "fix-42",
                            "CAPGATE_VAULT_CA",
                            VAULT_CA))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CAPGATE_VAULT_CA (--vault-ca) and --vault-ca-file");
  }

  @Test
  void to_string_names_the_session_and_endpoints() {
    SessionSettings settings =
        SessionSettings.of("agents", "fix-42")
            .withVault(
                "https://vault:8200",
                "https://10.96.0.12:443",
                CA,
                Path.of("/t"),
                Duration.ofSeconds(1));
    assertThat(settings.toString())
        .contains("agents/fix-42", "https://vault:8200", "https://10.96.0.12:443")
        .doesNotContain("BEGIN CERTIFICATE");
  }

  /** The operator writes with {@link InjectedSettings#toEnv}; the sidecar reads the same. */
  @Test
  void what_the_operator_writes_is_what_the_sidecar_reads() {
    InjectedSettings written =
        InjectedSettings.forSession(
                "agents", "fix-42", "https://vault:8200", VAULT_CA, "https://10.96.0.12:443", CA)
            .withHostAliases("[{\"ip\":\"10.0.0.7\",\"hostnames\":[\"git.corp\"]}]")
            .withUpstreamCaFile(SidecarContract.UPSTREAM_CA_FILE);
    SidecarConfig config = SidecarConfig.parse(List.of(), written.toEnvValues());

    SessionSettings settings = SessionSettings.from(config);

    assertThat(settings)
        .isEqualTo(
            new SessionSettings(
                "agents",
                "fix-42",
                "https://vault:8200",
                VAULT_CA,
                null,
                "https://10.96.0.12:443",
                CA,
                Path.of(SidecarContract.TOKEN_FILE),
                "capgate-leases-fix-42",
                Duration.ofSeconds(30),
                Duration.ofSeconds(30),
                Duration.ofSeconds(5)));
    assertThat(InjectedSettings.read(config::setting)).isEqualTo(written);
    assertThat(SidecarPorts.read(config::setting)).isEqualTo(SidecarPorts.DEFAULTS);
    // A flag of the same name still wins over what the webhook wrote.
    assertThat(
            SidecarPorts.read(
                    SidecarConfig.parse(List.of("--proxy-port", "16001"), written.toEnvValues())
                        ::setting)
                .proxyPort())
        .isEqualTo(16001);
  }

  @Test
  void durations_follow_the_api_grammar() {
    SessionSettings settings =
        SessionSettings.from(
            SidecarConfig.parse(
                List.of("--api-outage-grace", "1m30s"),
                Map.of("CAPGATE_SESSION_NAMESPACE", "agents", "CAPGATE_SESSION_NAME", "fix-42")));
    assertThat(settings.apiOutageGrace()).isEqualTo(Duration.ofSeconds(90));
    assertThatThrownBy(
            () ->
                SessionSettings.from(
                    SidecarConfig.parse(
                        List.of("--api-outage-grace", "PT30S"),
                        Map.of(
                            "CAPGATE_SESSION_NAMESPACE", "agents", "CAPGATE_SESSION_NAME", "x"))))
        .hasMessageContaining("--api-outage-grace")
        .hasMessageContaining("must be a duration such as 30s");
  }

  @Test
  void the_session_is_required() {
    assertThatThrownBy(
            () ->
                SessionSettings.from(
                    SidecarConfig.parse(List.of(), Map.of("CAPGATE_SESSION_NAME", "x"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CAPGATE_SESSION_NAMESPACE");
  }
}
