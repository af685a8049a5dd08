package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The operator's answer to POST /v1/vault-token, good and bad (notes/sidecar-contract.md). */
class WrappedGrantTest {
  private static final String WRAPPING = "hvs.CAESIwrappingTokenValue0123456789";

  @Test
  void a_200_with_the_contract_s_fields() {
    WrappedGrant grant =
        WrappedGrant.parse(
            200,
            """
        {"wrappingToken": "%s", "wrapTtlSeconds": 60, "namespace": "agents", "session": "fix-42"}
        """
                .formatted(WRAPPING));

    assertThat(grant)
        .isEqualTo(new WrappedGrant(WRAPPING, Duration.ofSeconds(60), "agents", "fix-42"));
    assertThat(grant.toString()).doesNotContain(WRAPPING).contains("redacted", "agents", "fix-42");
  }

  @Test
  void each_refusal_says_who_refused_and_why_in_the_operator_s_words() {
    assertThatThrownBy(
            () ->
                WrappedGrant.parse(
                    401, "{\"error\": \"the token is not valid for audience capgate\"}"))
        .isInstanceOf(VaultReadException.class)
        .hasMessage(
            "the operator did not accept the sidecar's identity token (HTTP 401): "
                + "the token is not valid for audience capgate");
    assertThatThrownBy(
            () -> WrappedGrant.parse(403, "{\"error\": \"pod p is not bound to session s\"}"))
        .hasMessage(
            "the operator refused a Vault token for this pod's session (HTTP 403): pod p is not bound to session s");
    assertThatThrownBy(() -> WrappedGrant.parse(503, "{\"error\": \"Vault is sealed\"}"))
        .hasMessage("the operator cannot issue a Vault token now (HTTP 503): Vault is sealed");
    assertThatThrownBy(() -> WrappedGrant.parse(405, "{\"error\": \"POST only\"}"))
        .hasMessage("the operator answered HTTP 405 to the Vault token request: POST only");
  }

  @Test
  void a_refusal_without_json_is_the_status_alone() {
    assertThatThrownBy(() -> WrappedGrant.parse(502, "<html>Bad Gateway</html>"))
        .hasMessage("the operator answered HTTP 502 to the Vault token request");
    assertThatThrownBy(() -> WrappedGrant.parse(403, ""))
        .hasMessage("the operator refused a Vault token for this pod's session (HTTP 403)");
    assertThatThrownBy(() -> WrappedGrant.parse(403, "{\"error\": 42}"))
        .hasMessage("the operator refused a Vault token for this pod's session (HTTP 403)");
  }

  @Test
  void the_error_text_cannot_forge_log_lines_or_flood_them() {
    assertThatThrownBy(
            () ->
                WrappedGrant.parse(
                    403, "{\"error\": \"denied\\n{\\\"level\\\":\\\"INFO\\\"}\\r\"}"))
        .hasMessage(
            "the operator refused a Vault token for this pod's session (HTTP 403): denied {\"level\":\"INFO\"}");
    String longError = "x".repeat(5000);
    assertThatThrownBy(() -> WrappedGrant.parse(403, "{\"error\": \"" + longError + "\"}"))
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .endsWith("x...")
                    .hasSizeLessThan(WrappedGrant.MAX_ERROR_LENGTH + 100));
  }

  @Test
  void a_200_without_a_usable_wrapping_token_is_an_error() {
    assertThatThrownBy(
            () -> WrappedGrant.parse(200, "{\"namespace\": \"agents\", \"session\": \"s\"}"))
        .isInstanceOf(VaultReadException.class)
        .hasMessageContaining("holds no wrapping token");
    assertThatThrownBy(() -> WrappedGrant.parse(200, "{\"wrappingToken\": \"two words\"}"))
        .hasMessageContaining("holds no wrapping token");
    assertThatThrownBy(() -> WrappedGrant.parse(200, "not json"))
        .hasMessageContaining("holds no wrapping token");
  }
}
