package dev.capgate.sidecar.session;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.AgentSessionStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.stream.Collectors;

/**
 * Reads the AgentSession as the API server sent it, spec strictly. The sidecar watches it as a
 * generic resource because a typed read would silently drop a spec field this sidecar does not
 * know: after an upgrade of the CRD (a newer operator, an older sidecar image still running), that
 * field may be a restriction, and ignoring it would make the policy wider than written. Such a spec
 * is reported, and the session denied, rather than enforced in part.
 */
final class SessionReader {
  /**
   * The AgentSession resource, spelled out so that no API discovery call is needed (the Role allows
   * none).
   */
  static final ResourceDefinitionContext AGENT_SESSIONS =
      new ResourceDefinitionContext.Builder()
          .withGroup(AgentSession.GROUP)
          .withVersion(AgentSession.VERSION)
          .withKind("AgentSession")
          .withPlural("agentsessions")
          .withNamespaced(true)
          .build();

  private static final ObjectMapper STRICT =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final ObjectMapper LENIENT =
      new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * The typed session and, when its spec has fields this sidecar does not know, which ones (else
   * null).
   */
  record Read(AgentSession session, String specProblem) {}

  Read read(GenericKubernetesResource resource) {
    AgentSession session = new AgentSession();
    session.setMetadata(resource.getMetadata());
    String problem = null;
    Object spec = resource.getAdditionalProperties().get("spec");
    if (spec != null) {
      try {
        STRICT.convertValue(spec, AgentSessionSpec.class);
      } catch (IllegalArgumentException e) {
        problem = describe(e);
      }
      try {
        // Leniently too, so that spec.ttl still counts for expiry while the session is denied.
        session.setSpec(LENIENT.convertValue(spec, AgentSessionSpec.class));
      } catch (IllegalArgumentException e) {
        problem = problem != null ? problem : describe(e);
      }
    }
    Object status = resource.getAdditionalProperties().get("status");
    if (status != null) {
      try {
        // Lenient: a status field added by a newer operator must not stop an Active session.
        session.setStatus(LENIENT.convertValue(status, AgentSessionStatus.class));
      } catch (IllegalArgumentException e) {
        // no readable status: not Active, so denied
      }
    }
    return new Read(session, problem);
  }

  private static String describe(IllegalArgumentException e) {
    if (e.getCause() instanceof UnrecognizedPropertyException unknown) {
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
