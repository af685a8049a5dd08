package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public record VaultAuth(
    @Required
        @Size(min = 1, max = 128)
        @Pattern(Patterns.VAULT_NAME)
        @JsonPropertyDescription(
            "Role of Vault's JWT auth method that the operator logs in with on behalf of an attested sidecar, presenting a session JWT it signs (claims user, agent, namespace, session, pod). The Vault token is handed to the sidecar response-wrapped; the role's templated policy limits it to the session user's paths.")
        String role,
    @Default("capgate-jwt")
        @Size(max = 128)
        @Pattern(Patterns.VAULT_PATH)
        @JsonPropertyDescription(
            "Mount path of the JWT auth method in Vault that trusts the operator's session-signing key (default capgate-jwt).")
        String authMount) {

  /**
   * Where the admin enables the JWT auth method for Capgate ({@code bao auth enable
   * -path=capgate-jwt jwt}).
   */
  public static final String DEFAULT_AUTH_MOUNT = "capgate-jwt";

  public String authMountOrDefault() {
    return authMount == null ? DEFAULT_AUTH_MOUNT : authMount;
  }
}
