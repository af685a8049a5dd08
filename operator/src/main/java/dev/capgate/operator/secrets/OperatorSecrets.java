package dev.capgate.operator.secrets;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Secrets the operator keeps for itself in its own namespace (the session-signing key, the
 * webhook's serving certificate): labelled as capgate's with the component they serve, their
 * entries PEM text stored base64 as the API wants it.
 */
public final class OperatorSecrets {
  private OperatorSecrets() {}

  /**
   * @param component the value of {@code capgate.dev/component}
   * @param text the entries, as text (base64-encoded here)
   */
  public static Secret of(
      String namespace,
      String name,
      String component,
      Map<String, String> annotations,
      String type,
      Map<String, String> text) {
    Map<String, String> data = new LinkedHashMap<>();
    text.forEach((key, value) -> data.put(key, base64(value)));
    return new SecretBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withLabels(
            Map.of("app.kubernetes.io/managed-by", "capgate", "capgate.dev/component", component))
        .withAnnotations(annotations)
        .endMetadata()
        .withType(type)
        .withData(data)
        .build();
  }

  /** The entry {@code key} as text (it must be there). */
  public static String text(Secret secret, String key) {
    return new String(
        Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
