package dev.capgate.operator.injection;

import dev.capgate.api.sidecar.PlaceholderFormat;
import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.AwsSigV4Credential;
import dev.capgate.api.v1alpha1.Credential;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Placeholders for tools that refuse to start without a token ({@code gh} wants {@code GH_TOKEN},
 * SDKs want an API key): the agent gets an opaque value, unique to the pod and worthless anywhere
 * else, and the sidecar replaces it with the real credential on the routes of that credential. The
 * values reach the sidecar through the pod's CA Secret ({@link SidecarContract#PLACEHOLDERS_FILE}),
 * which agent containers cannot mount.
 */
public final class Placeholders {
  private Placeholders() {}

  /** A fresh placeholder for each credential of the session that declares one, in spec order. */
  public static List<CredentialPlaceholder> generate(AgentSessionSpec spec) {
    List<CredentialPlaceholder> out = new ArrayList<>();
    for (Credential c : spec.credentialsOrEmpty()) {
      if (c.awsSigV4() != null) {
        // The aws CLI and SDKs read their keys from these two variables: a placeholder secret key
        // (verified by the sidecar, never sent) and the key id derived from it.
        out.add(
            new CredentialPlaceholder(
                c.name(),
                AwsSigV4Credential.SECRET_ACCESS_KEY_ENV,
                PlaceholderFormat.generate(c.name()),
                AwsSigV4Credential.ACCESS_KEY_ID_ENV));
      } else if (c.placeholder() != null && c.placeholder().env() != null) {
        out.add(
            new CredentialPlaceholder(
                c.name(), c.placeholder().env(), PlaceholderFormat.generate(c.name())));
      }
    }
    return List.copyOf(out);
  }

  /** {@code {"<credential>": "<placeholder>", ...}}: what the sidecar reads. */
  public static String json(List<CredentialPlaceholder> placeholders) {
    Map<String, String> byCredential = new LinkedHashMap<>();
    placeholders.forEach(p -> byCredential.put(p.credential(), p.value()));
    return PlaceholderFormat.toJson(byCredential);
  }
}
