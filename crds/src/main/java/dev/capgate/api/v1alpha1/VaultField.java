package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * One field of a KV v2 secret that a credential kind needs as input, not as the injected value (a
 * GitHub App's private key, an OAuth client secret, a user's refresh token). Read by the sidecar
 * with the session's own Vault identity, like {@link VaultSecret}; a rotated refresh token is
 * written back there.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VaultField(
    @Required
        @Size(min = 1, max = 512)
        @Pattern(Patterns.VAULT_PATH)
        @JsonPropertyDescription(
            "KV v2 API path, e.g. secret/data/github-app/{{namespace}}. {{user}}, {{agent}}, {{session}} and {{namespace}} are replaced.")
        String path,
    @Size(min = 1, max = 128)
        @JsonPropertyDescription("Key of the value in the secret's data (default: see the kind).")
        String field) {

  public String fieldOr(String defaultField) {
    return field != null ? field : defaultField;
  }
}
