package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The Vault secret holding AWS keys: static keys in KV v2, or temporary ones from a secrets engine
 * (OpenBao's AWS engine answers {@code access_key}, {@code secret_key}, {@code security_token},
 * hence the defaults).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(self.engine) || self.engine == 'kv2' || self.engine == 'dynamic'",
    fieldPath = ".engine",
    reason = "FieldValueInvalid",
    message = "AWS keys are read from a kv2 or dynamic secret")
public record AwsVaultKeys(
    @Required
        @Size(min = 1, max = 512)
        @Pattern(Patterns.VAULT_PATH)
        @JsonPropertyDescription(
            "Vault API path, e.g. secret/data/aws/{{user}} (KV v2) or aws/creds/agent-s3 (dynamic). {{user}}, {{agent}}, {{session}} and {{namespace}} are replaced.")
        String path,
    @Default("kv2")
        @JsonPropertyDescription(
            "kv2: static keys in a KV v2 secret; dynamic: temporary keys from a leased secret (an AWS secrets engine), renewed while used and revoked with the session.")
        VaultEngine engine,
    @Size(min = 1, max = 128)
        @JsonPropertyDescription(
            "Key of the access key id in the secret's data (default access_key).")
        String accessKeyIdField,
    @Size(min = 1, max = 128)
        @JsonPropertyDescription(
            "Key of the secret access key in the secret's data (default secret_key).")
        String secretAccessKeyField,
    @Size(min = 1, max = 128)
        @JsonPropertyDescription(
            "Key of the session token in the secret's data (default security_token). When present and non-empty the keys are temporary and X-Amz-Security-Token is sent; absent or empty means long-term keys.")
        String sessionTokenField) {

  public VaultEngine engineOrDefault() {
    return engine == null ? VaultEngine.KV2 : engine;
  }

  public String accessKeyIdFieldOrDefault() {
    return accessKeyIdField == null ? "access_key" : accessKeyIdField;
  }

  public String secretAccessKeyFieldOrDefault() {
    return secretAccessKeyField == null ? "secret_key" : secretAccessKeyField;
  }

  public String sessionTokenFieldOrDefault() {
    return sessionTokenField == null ? "security_token" : sessionTokenField;
  }
}
