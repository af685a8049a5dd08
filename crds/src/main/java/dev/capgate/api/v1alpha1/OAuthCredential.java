package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * A credential the sidecar obtains from an OAuth 2.0 authorization server at egress time: an access
 * token from the user's refresh token (RFC 6749 §6), or an audience-bound token from a token
 * exchange (RFC 8693). The access token is cached until shortly before it expires.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "(has(self.refreshToken) ? 1 : 0) + (has(self.tokenExchange) ? 1 : 0) == 1",
    reason = "FieldValueInvalid",
    message = "exactly one of refreshToken or tokenExchange is required")
public record OAuthCredential(
    @Required
        @Size(min = 9, max = 2048)
        @Pattern(Patterns.HTTPS_URL)
        @JsonPropertyDescription(
            "The authorization server's token endpoint (https), e.g. https://sso.example.com/realms/acme/protocol/openid-connect/token.")
        String tokenUrl,
    @Required
        @Size(min = 1, max = 255)
        @JsonPropertyDescription("The OAuth client the sidecar acts as.")
        String clientId,
    @JsonPropertyDescription(
            "The client's secret in Vault (field default client_secret), sent as client_secret; absent for a public client.")
        VaultField clientSecret,
    @Size(min = 1, max = 1024)
        @JsonPropertyDescription("scope parameter of the grant (space-separated), if any.")
        String scope,
    @JsonPropertyDescription(
            "The user's grant: a KV v2 secret holding the refresh token (field default refresh_token), usually templated on {{user}}. The sidecar writes a rotated refresh token back to it (check-and-set), so the session's Vault policy must allow read and update on that path.")
        VaultField refreshToken,
    @JsonPropertyDescription(
            "RFC 8693 token exchange of the user's token for one bound to the upstream's audience.")
        TokenExchange tokenExchange) {

  /** Field of {@link #refreshToken} when none is named. */
  public static final String DEFAULT_REFRESH_FIELD = "refresh_token";

  /** Field of {@link #clientSecret} when none is named. */
  public static final String DEFAULT_CLIENT_SECRET_FIELD = "client_secret";
}
