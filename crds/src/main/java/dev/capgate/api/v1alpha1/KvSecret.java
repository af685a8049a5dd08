package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * One field of a KV v2 secret that a credential kind needs besides its value (an OAuth client
 * secret, a user's refresh token). Read, and for a refresh token written back, with the sidecar's
 * own Vault identity.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record KvSecret(
    @Required
        @Size(min = 1, max = 512)
        @Pattern(Patterns.VAULT_PATH)
        @JsonPropertyDescription(
            "KV v2 API path, e.g. secret/data/oauth/{{user}}. {{user}}, {{agent}}, {{session}} and {{namespace}} are replaced.")
        String path,
    @Size(min = 1, max = 128)
        @JsonPropertyDescription(
            "Key of the value in the secret's data (the default depends on the use).")
        String field) {

  public String fieldOr(String defaultField) {
    return field != null ? field : defaultField;
  }
}
