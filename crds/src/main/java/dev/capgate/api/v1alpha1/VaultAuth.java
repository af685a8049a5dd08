package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public record VaultAuth(
    @Required @Size(min = 1, max = 128) @Pattern(Patterns.VAULT_NAME)
    @JsonPropertyDescription("Vault Kubernetes-auth role the sidecar logs in with, using its own projected service-account token.")
    String role,

    @Default("kubernetes") @Size(max = 128) @Pattern(Patterns.VAULT_PATH)
    @JsonPropertyDescription("Mount path of the Kubernetes auth method in Vault (default kubernetes).")
    String authMount) {

  public String authMountOrDefault() {
    return authMount == null ? "kubernetes" : authMount;
  }
}
