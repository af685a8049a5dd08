package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * One credential of a session, of exactly one kind: {@code vault} (a value read from Vault), {@code
 * githubApp} (an installation token minted per session), {@code oauth} (a user's access token from
 * a refresh grant or a token exchange) — each injected as a header — or {@code awsSigV4} (requests
 * re-signed with AWS keys). A new kind adds its {@code has()} to the list in the first rule.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "[has(self.vault), has(self.githubApp), has(self.oauth), has(self.awsSigV4)].filter(k, k).size() == 1",
    reason = "FieldValueInvalid",
    message = "a credential has exactly one kind: vault, githubApp, oauth or awsSigV4")
@ValidationRule(
    value = "has(self.awsSigV4) || has(self.inject)",
    fieldPath = ".inject",
    reason = "FieldValueRequired",
    message = "inject is required for a vault, githubApp or oauth credential")
@ValidationRule(
    value = "!has(self.awsSigV4) || (!has(self.inject) && !has(self.placeholder))",
    fieldPath = ".awsSigV4",
    reason = "FieldValueForbidden",
    message =
        "an awsSigV4 credential re-signs requests: no inject, and its placeholders are AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not placeholder")
public record Credential(
    @Required
        @Size(min = 1, max = 63)
        @Pattern(Patterns.NAME)
        @JsonPropertyDescription("Name that egress rules use to refer to this credential.")
        String name,
    @JsonPropertyDescription(
            "Where the sidecar reads the value, at egress time, with its own Vault identity. Exactly one of vault, githubApp, oauth and awsSigV4.")
        VaultSecret vault,
    @JsonPropertyDescription(
            "How the value is put on the request. Whatever the agent sent in that header is replaced. Required unless awsSigV4.")
        Injection inject,
    @JsonPropertyDescription(
            "For tools that refuse to start without a token: an environment variable the webhook sets in agent containers to an opaque per-pod placeholder, which the sidecar swaps for the real value on this credential's routes only.")
        Placeholder placeholder,
    @JsonPropertyDescription(
            "A GitHub App installation token minted by the sidecar for this session (App private key in Vault), limited to the listed repositories and permissions, revoked when the session ends. Exactly one of vault, githubApp, oauth and awsSigV4.")
        GitHubAppCredential githubApp,
    @JsonPropertyDescription(
            "An OAuth access token the sidecar obtains at egress time, for the session's user: from the user's refresh token in Vault, or by RFC 8693 token exchange. Exactly one of vault, githubApp, oauth and awsSigV4.")
        OAuthCredential oauth,
    @JsonPropertyDescription(
            "AWS Signature V4 (aws CLI, SDKs): agent containers get placeholder keys in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the sidecar verifies each request was signed with them, then signs it again with the real keys from Vault. Exactly one of vault, githubApp, oauth and awsSigV4.")
        AwsSigV4Credential awsSigV4) {

  /** A credential whose value is read from Vault (the kind every session had first). */
  public Credential(String name, VaultSecret vault, Injection inject, Placeholder placeholder) {
    this(name, vault, inject, placeholder, null, null, null);
  }
}
