package dev.capgate.sidecar.session;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Phase;
import java.util.stream.Collectors;

/**
 * Reads the AgentSession as the API server sent it (JSON), spec strictly. A typed read would
 * silently drop a spec field this sidecar does not know: after an upgrade of the CRD (a newer
 * operator, an older sidecar image still running), that field may be a restriction, and ignoring it
 * would make the policy wider than written. Such a spec is reported, and the session denied, rather
 * than enforced in part. The spec goes into the API's own records ({@link AgentSessionSpec}), so
 * the policy compiler gets the same validated input as ever.
 */
final class SessionReader {
  /** The AgentSession resource path, spelled out: no API discovery call (the Role allows none). */
  static final String AGENT_SESSIONS = "/apis/capgate.dev/v1alpha1/namespaces/%s/agentsessions";

  static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper STRICT =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final ObjectMapper LENIENT =
      new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * The session and, when its spec has fields this sidecar does not know, which ones (else null).
   */
  record Read(ObservedSession session, String specProblem) {}

  Read read(JsonNode object) {
    JsonNode metadata = object.path("metadata");
    String problem = null;
    AgentSessionSpec spec = null;
    JsonNode specNode = object.get("spec");
    if (specNode != null && !specNode.isNull()) {
      try {
        STRICT.treeToValue(specNode, AgentSessionSpec.class);
      } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
        problem = describe(e);
      }
      try {
        // Leniently too, so that spec.ttl still counts for expiry while the session is denied.
        spec = LENIENT.treeToValue(specNode, AgentSessionSpec.class);
      } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
        problem = problem != null ? problem : describe(e);
      }
    }
    Phase phase = null;
    JsonNode phaseNode = object.path("status").path("phase");
    if (phaseNode.isTextual()) {
      try {
        // Only the phase: a status field added by a newer operator must not stop an Active session.
        phase = Phase.valueOf(phaseNode.asText());
      } catch (IllegalArgumentException e) {
        // an unknown phase: not Active, so denied
      }
    }
    return new Read(
        new ObservedSession(
            text(metadata, "namespace"),
            text(metadata, "name"),
            text(metadata, "uid"),
            metadata.path("generation").asLong(0),
            text(metadata, "creationTimestamp"),
            text(metadata, "deletionTimestamp"),
            text(metadata, "resourceVersion"),
            spec,
            phase),
        problem);
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }

  private static String describe(Exception e) {
    if (e instanceof UnrecognizedPropertyException unknown) {
      String where =
          unknown.getPath().stream()
              .map(
                  ref ->
                      ref.getFieldName() != null
                          ? "." + ref.getFieldName()
                          : "[" + ref.getIndex() + "]")
              .collect(Collectors.joining());
      return "the AgentSession spec has a field this sidecar does not know (spec"
          + where
          + "): denying rather than enforcing the policy in part; run a sidecar image that matches the CRD";
    }
    return "the AgentSession spec cannot be read by this sidecar: denying rather than guessing";
  }
}
