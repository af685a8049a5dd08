package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * One credential of a session: a name the egress rules use, where its value comes from (exactly one
 * source: {@code vault}, or a kind that produces the value from inputs such as {@code githubApp} or
 * {@code oauth}), and how the value is put on the request.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
// A sum of has(): a new source kind adds one term.
@ValidationRule(
    value =
        "(has(self.vault) ? 1 : 0) + (has(self.githubApp) ? 1 : 0) + (has(self.oauth) ? 1 : 0) == 1",
    reason = "FieldValueInvalid",
    message = "a credential has exactly one source: vault, githubApp or oauth")
public record Credential(
    @Required
        @Size(min = 1, max = 63)
        @Pattern(Patterns.NAME)
        @JsonPropertyDescription("Name that egress rules use to refer to this credential.")
        String name,
    @JsonPropertyDescription(
            "Where the sidecar reads the value, at egress time, with its own Vault identity. Exactly one of vault, githubApp and oauth.")
        VaultSecret vault,
    @Required
        @JsonPropertyDescription(
            "How the value is put on the request. Whatever the agent sent in that header is replaced.")
        Injection inject,
    @JsonPropertyDescription(
            "For tools that refuse to start without a token: an environment variable the webhook sets in agent containers to an opaque per-pod placeholder, which the sidecar swaps for the real value on this credential's routes only.")
        Placeholder placeholder,
    @JsonPropertyDescription(
            "A GitHub App installation token minted by the sidecar for this session (App private key in Vault), limited to the listed repositories and permissions, revoked when the session ends. Exactly one of vault, githubApp and oauth.")
        GitHubAppCredential githubApp,
    @JsonPropertyDescription(
            "An OAuth access token the sidecar obtains at egress time, for the session's user: from the user's refresh token in Vault, or by RFC 8693 token exchange. Exactly one of vault, githubApp and oauth.")
        OAuthCredential oauth) {

  /** A credential whose value is read from Vault (the kind every session had first). */
  public Credential(String name, VaultSecret vault, Injection inject, Placeholder placeholder) {
    this(name, vault, inject, placeholder, null, null);
  }
}
