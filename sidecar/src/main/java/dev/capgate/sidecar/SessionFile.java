package dev.capgate.sidecar;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Reads the session the sidecar enforces from a JSON file: either a whole AgentSession (apiVersion,
 * kind, metadata, spec, status) or only its spec. Unknown fields in the spec are an error, so a
 * typo becomes an invalid policy (deny everything) instead of a silently wider one.
 *
 * <p>JSON only (YAML until issue 13): a YAML parser was a hundred-odd classes in every sidecar for
 * a file only local runs and tests write. {@code kubectl get agentsession NAME -o json} gives one.
 */
public final class SessionFile {
  /** The spec and the identity it is enforced under. */
  public record Loaded(SessionIdentity identity, AgentSessionSpec spec) {}

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private SessionFile() {}

  /**
   * @param fallbackNamespace used when the file has no metadata.namespace (only a spec)
   * @param fallbackName used when the file has no metadata.name
   * @throws IOException with the file name when it cannot be read or parsed
   */
  public static Loaded load(Path file, String fallbackNamespace, String fallbackName)
      throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException(
          "cannot read session file " + file + " (JSON expected): " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IOException("session file " + file + " holds no JSON object");
    }
    JsonNode specNode = root.has("spec") ? root.get("spec") : root;
    JsonNode metadata = root.path("metadata");
    AgentSessionSpec spec;
    try {
      spec = JSON.treeToValue(specNode, AgentSessionSpec.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException(
          "session file " + file + " has an invalid spec: " + e.getOriginalMessage(), e);
    }
    String namespace = metadata.path("namespace").asText(fallbackNamespace);
    String name = metadata.path("name").asText(fallbackName);
    return new Loaded(
        new SessionIdentity(namespace, name, spec.user(), spec.agent(), spec.project()), spec);
  }
}
