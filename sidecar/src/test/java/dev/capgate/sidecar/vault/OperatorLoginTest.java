package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.common.vault.VaultClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What the operator's URL and CA settings accept; the exchange itself runs in VaultIdentityIT. */
class OperatorLoginTest {
  @Test
  void the_endpoint_is_the_operator_url_with_the_contract_s_path() {
    assertThat(OperatorLogin.endpoint("https://10.96.0.12:443"))
        .isEqualTo(URI.create("https://10.96.0.12:443/v1/vault-token"));
    assertThat(OperatorLogin.endpoint("https://capgate.capgate-system.svc/"))
        .isEqualTo(URI.create("https://capgate.capgate-system.svc/v1/vault-token"));
  }

  @Test
  void only_https_carries_the_identity_token() {
    assertThatThrownBy(() -> OperatorLogin.endpoint("http://10.96.0.12:80"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CAPGATE_OPERATOR_URL must be an https:// URL");
    assertThatThrownBy(() -> OperatorLogin.endpoint("10.96.0.12:443"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("https://");
    assertThatThrownBy(() -> OperatorLogin.endpoint("https://user@10.96.0.12"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> OperatorLogin.endpoint("https://10.96.0.12/?x=1"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void the_operator_ca_must_hold_a_certificate() {
    VaultClient vault =
        VaultClient.create("http://127.0.0.1:1", (Path) null, Duration.ofSeconds(1));
    assertThatThrownBy(
            () ->
                OperatorLogin.create(
                    "https://10.96.0.12",
                    "not a certificate",
                    Path.of("/t"),
                    vault,
                    "agents",
                    "s",
                    Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CAPGATE_OPERATOR_CA");
    assertThatThrownBy(
            () ->
                OperatorLogin.create(
                    "https://10.96.0.12",
                    " ",
                    Path.of("/t"),
                    vault,
                    "agents",
                    "s",
                    Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no certificate in CAPGATE_OPERATOR_CA");
  }
}
