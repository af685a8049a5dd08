package dev.capgate.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The pure parts of /v1/vault-token: the bearer token and where sidecars reach the operator. */
class VaultTokenRequestTest {
  @Test
  void theBearerTokenIsTakenFromTheAuthorizationHeaderOnly() {
    assertThat(VaultTokenIssuer.bearer("Bearer abc.def.ghi")).isEqualTo("abc.def.ghi");
    assertThat(VaultTokenIssuer.bearer("bearer   abc ")).isEqualTo("abc");
    assertThat(VaultTokenIssuer.bearer("Basic YWxpY2U6c2VjcmV0")).isNull();
    assertThat(VaultTokenIssuer.bearer("abc.def.ghi")).isNull();
    assertThat(VaultTokenIssuer.bearer(null)).isNull();
    assertThat(VaultTokenIssuer.bearer("Bearer")).isNull();
  }

  @Test
  void theOperatorUrlIsTheWebhookUrlsHostWithTheIdentityListenersPort() {
    assertThat(OperatorEndpoint.withPortPlaceholder("https://127.0.0.1:{port}/mutate"))
        .isEqualTo("https://127.0.0.1:{port}");
    assertThat(OperatorEndpoint.withPortPlaceholder("https://capgate.example:9443/a/b"))
        .isEqualTo("https://capgate.example:{port}");
    assertThat(OperatorEndpoint.withPortPlaceholder("https://capgate.example/mutate"))
        .isEqualTo("https://capgate.example:{port}");
    assertThat(OperatorEndpoint.withPortPlaceholder("https://[fd00::1]:9443/mutate"))
        .isEqualTo("https://[fd00::1]:{port}");
    assertThat(OperatorEndpoint.withPortPlaceholder("https://[fd00::1]"))
        .isEqualTo("https://[fd00::1]:{port}");
    assertThat(new OperatorEndpoint("https://127.0.0.1:{port}", java.util.List.of()).url(9444))
        .isEqualTo("https://127.0.0.1:9444");
  }

  @Test
  void theOperatorUrlIsTheWebhookUrlsOrigin() {
    assertThat(OperatorEndpoint.origin("https://127.0.0.1:{port}/mutate"))
        .isEqualTo("https://127.0.0.1:{port}");
    assertThat(OperatorEndpoint.origin("https://capgate.example:8443/a/b"))
        .isEqualTo("https://capgate.example:8443");
    assertThat(OperatorEndpoint.origin("https://capgate.example"))
        .isEqualTo("https://capgate.example");
    assertThat(new OperatorEndpoint("https://127.0.0.1:{port}", java.util.List.of()).url(9443))
        .isEqualTo("https://127.0.0.1:9443");
    assertThat(new OperatorEndpoint(null, java.util.List.of()).url(9443)).isNull();
  }
}
