package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.engine == 'identity-token' || has(self.field)",
    fieldPath = ".field",
    reason = "FieldValueRequired",
    message = "field is required for kv2 and dynamic secrets")
public record VaultSecret(
    @Required
        @Size(min = 1, max = 512)
        @Pattern(Patterns.VAULT_PATH)
        @JsonPropertyDescription(
            "Vault API path, e.g. secret/data/github/{{user}} (KV v2) or identity/oidc/token/internal-api. {{user}}, {{agent}}, {{session}} and {{namespace}} are replaced.")
        String path,
    @Size(min = 1, max = 128)
        @JsonPropertyDescription(
            "Key of the value in the secret's data. Defaults to token for identity tokens.")
        String field,
    @Default("kv2")
        @JsonPropertyDescription(
            "kv2: a static KV v2 secret; dynamic: a leased secret (database, ...) renewed while used and revoked with the session; identity-token: a short-lived OpenBao identity JWT.")
        VaultEngine engine) {

  public VaultEngine engineOrDefault() {
    return engine == null ? VaultEngine.KV2 : engine;
  }

  public String fieldOrDefault() {
    return field != null ? field : "token";
  }
}
