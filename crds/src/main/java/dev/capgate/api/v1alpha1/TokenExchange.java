package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/**
 * RFC 8693 token exchange: the session user's token (another credential of the session) is traded
 * at the authorization server for a short-lived token bound to one audience.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(self.resource) || self.resource.all(r, r.startsWith('https://'))",
    fieldPath = ".resource",
    reason = "FieldValueInvalid",
    message = "resource entries must be https:// URIs")
public record TokenExchange(
    @Required
        @Size(min = 1, max = 63)
        @Pattern(Patterns.NAME)
        @JsonPropertyDescription(
            "Name of another credential of this session whose value is the subject token: the user's identity, e.g. an oauth refreshToken credential at the same authorization server (a token it issued), or a vault identity-token credential (an external JWT the server must be configured to trust).")
        String subjectCredential,
    @Default("access_token")
        @JsonPropertyDescription(
            "What the subject token is: access_token (default), jwt or id_token (sent as the RFC 8693 URN).")
        SubjectTokenType subjectTokenType,
    @Size(min = 1, max = 255)
        @JsonPropertyDescription(
            "subject_issuer parameter, for a subject token the server did not issue itself (Keycloak: the alias of the identity provider that trusts its issuer's JWKS).")
        String subjectIssuer,
    @Size(max = 8)
        @JsonPropertyDescription(
            "audience parameters: the logical names of the services the token is for (for Keycloak, client ids).")
        List<String> audience,
    @Size(max = 8)
        @JsonPropertyDescription(
            "resource parameters: https URIs of the services the token is for.")
        List<String> resource) {

  public SubjectTokenType subjectTokenTypeOrDefault() {
    return subjectTokenType == null ? SubjectTokenType.ACCESS_TOKEN : subjectTokenType;
  }
}
