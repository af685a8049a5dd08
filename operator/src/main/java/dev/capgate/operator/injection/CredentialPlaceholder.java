package dev.capgate.operator.injection;

/**
 * One credential's placeholder in one pod: agent containers see {@code env=value}, the sidecar
 * swaps {@code value} for the real credential on that credential's routes only.
 *
 * @param credential the credential's name in the session
 * @param env the environment variable set in every agent container
 * @param value {@code capgate-ph-<credential>-<32 random base32 characters>}, new for each pod
 */
public record CredentialPlaceholder(String credential, String env, String value) {
  @Override
  public String toString() {
    // Worthless outside the pod, but still not for logs: it is what the sidecar swaps.
    return "CredentialPlaceholder[credential=" + credential + ", env=" + env + "]";
  }
}
