package dev.capgate.sidecar.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.sidecar.SidecarConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The environment the webhook gives the sidecar (notes/sidecar-contract.md) becomes these settings. */
class SessionSettingsTest {
  @Test
  void reads_the_webhook_s_environment() {
    SessionSettings settings = SessionSettings.from(SidecarConfig.parse(List.of(), Map.of(
        "CAPGATE_SESSION_NAMESPACE", "agents",
        "CAPGATE_SESSION_NAME", "fix-42",
        "CAPGATE_VAULT_ADDR", "https://vault:8200",
        "CAPGATE_VAULT_ROLE", "capgate-agent",
        "CAPGATE_VAULT_AUTH_MOUNT", "k8s-prod",
        "CAPGATE_VAULT_TOKEN_FILE", "/var/run/secrets/capgate/token/token",
        "CAPGATE_LEASE_CONFIGMAP", "capgate-leases-fix-42")));

    assertThat(settings).isEqualTo(new SessionSettings("agents", "fix-42", "https://vault:8200", null, "capgate-agent",
        "k8s-prod", Path.of("/var/run/secrets/capgate/token/token"), "capgate-leases-fix-42", Duration.ofSeconds(30),
        Duration.ofSeconds(30), Duration.ofSeconds(5)));
    assertThat(settings.vaultConfigured()).isTrue();
  }

  @Test
  void defaults_and_overrides() {
    SessionSettings settings = SessionSettings.from(SidecarConfig.parse(
        List.of("--api-outage-grace", "5s", "--kv-cache-ttl", "1m"),
        Map.of("CAPGATE_SESSION_NAMESPACE", "agents", "CAPGATE_SESSION_NAME", "fix-42")));

    assertThat(settings.vaultAuthMount()).isEqualTo("kubernetes");
    assertThat(settings.leaseConfigMap()).isEqualTo("capgate-leases-fix-42");
    assertThat(settings.apiOutageGrace()).isEqualTo(Duration.ofSeconds(5));
    assertThat(settings.kvCacheTtl()).isEqualTo(Duration.ofMinutes(1));
    assertThat(settings.vaultConfigured()).as("no Vault address, no role").isFalse();
  }

  @Test
  void the_session_is_required() {
    assertThatThrownBy(() -> SessionSettings.from(SidecarConfig.parse(List.of(), Map.of("CAPGATE_SESSION_NAME", "x"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CAPGATE_SESSION_NAMESPACE");
  }
}
