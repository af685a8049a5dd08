package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * AWS Signature V4 (issue 15): the agent signs with placeholder keys, the sidecar verifies that
 * signature and signs the request again with the real keys read from Vault at egress.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AwsSigV4Credential(
    @Required
        @JsonPropertyDescription(
            "Where the sidecar reads the real keys, at egress time, with its own Vault identity: one read gives the access key id, the secret key and (temporary credentials) the session token.")
        AwsVaultKeys vault,
    @Required
        @Size(min = 1, max = 32)
        @Pattern(Patterns.AWS_REGION)
        @JsonPropertyDescription(
            "AWS region the requests are signed for, e.g. us-east-1; a request the agent signed for another region is refused.")
        String region,
    @Size(min = 1, max = 64)
        @Pattern(Patterns.AWS_SERVICE)
        @Default("s3")
        @JsonPropertyDescription(
            "AWS service signing name the requests are signed for (default s3); a request the agent signed for another service is refused.")
        String service) {

  /** The access key placeholders are set in these variables of agent containers. */
  public static final String ACCESS_KEY_ID_ENV = "AWS_ACCESS_KEY_ID";

  public static final String SECRET_ACCESS_KEY_ENV = "AWS_SECRET_ACCESS_KEY";

  public String serviceOrDefault() {
    return service == null ? "s3" : service;
  }
}
