package dev.capgate.operator.injection;

import dev.capgate.api.sidecar.PlaceholderFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One credential's placeholder in one pod: agent containers see {@code env=value}, the sidecar
 * swaps {@code value} for the real credential on that credential's routes only.
 *
 * @param credential the credential's name in the session
 * @param env the environment variable set in every agent container
 * @param value {@code capgate-ph-<credential>-<32 random base32 characters>}, new for each pod
 * @param accessKeyIdEnv for an {@code awsSigV4} credential ({@code env} then holds the placeholder
 *     secret key): the variable that gets the access key id derived from {@code value} ({@link
 *     PlaceholderFormat#awsAccessKeyId}); null otherwise
 */
public record CredentialPlaceholder(
    String credential, String env, String value, String accessKeyIdEnv) {

  public CredentialPlaceholder(String credential, String env, String value) {
    this(credential, env, value, null);
  }

  /** Every variable this placeholder sets in agent containers, name → value. */
  public Map<String, String> variables() {
    Map<String, String> vars = new LinkedHashMap<>();
    if (accessKeyIdEnv != null) {
      vars.put(accessKeyIdEnv, PlaceholderFormat.awsAccessKeyId(value));
    }
    vars.put(env, value);
    return vars;
  }

  /** The same placeholder with another value (the one a pod already carries). */
  public CredentialPlaceholder withValue(String carried) {
    return new CredentialPlaceholder(credential, env, carried, accessKeyIdEnv);
  }

  @Override
  public String toString() {
    // Worthless outside the pod, but still not for logs: it is what the sidecar swaps.
    return "CredentialPlaceholder[credential=" + credential + ", env=" + env + "]";
  }
}
