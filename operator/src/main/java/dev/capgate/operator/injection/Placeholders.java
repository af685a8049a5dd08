package dev.capgate.operator.injection;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Credential;
import java.security.SecureRandom;
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
  public static final String PREFIX = "capgate-ph-";

  /** RFC 4648 base32, lower case: 32 characters carry 160 random bits. */
  private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

  private static final int RANDOM_CHARS = 32;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();

  private Placeholders() {}

  /** A fresh placeholder for each credential of the session that declares one, in spec order. */
  public static List<CredentialPlaceholder> generate(AgentSessionSpec spec) {
    List<CredentialPlaceholder> out = new ArrayList<>();
    for (Credential c : spec.credentialsOrEmpty()) {
      if (c.placeholder() != null && c.placeholder().env() != null) {
        out.add(new CredentialPlaceholder(c.name(), c.placeholder().env(), value(c.name())));
      }
    }
    return List.copyOf(out);
  }

  static String value(String credential) {
    StringBuilder value = new StringBuilder(PREFIX).append(credential).append('-');
    for (int i = 0; i < RANDOM_CHARS; i++) {
      value.append(BASE32.charAt(RANDOM.nextInt(BASE32.length())));
    }
    return value.toString();
  }

  /** {@code {"<credential>": "<placeholder>", ...}}: what the sidecar reads. */
  public static String json(List<CredentialPlaceholder> placeholders) {
    Map<String, String> byCredential = new LinkedHashMap<>();
    placeholders.forEach(p -> byCredential.put(p.credential(), p.value()));
    try {
      return JSON.writeValueAsString(byCredential);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
