package dev.capgate.cli.kube;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.ApprovalDecision;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * AgentApprovals (requests a sidecar holds for a person) as generic JSON, as {@link AgentSessions}
 * reads sessions. Deciding is a merge patch of {@code status} on the status subresource: who
 * decided is not sent (the operator's webhook stamps it from the API server's authentication).
 */
public final class AgentApprovals {
  public static final ResourceDefinitionContext CONTEXT =
      new ResourceDefinitionContext.Builder()
          .withGroup(AgentSession.GROUP)
          .withVersion(AgentSession.VERSION)
          .withKind("AgentApproval")
          .withPlural("agentapprovals")
          .withNamespaced(true)
          .build();

  private final KubernetesClient client;
  private final String namespace;

  public AgentApprovals(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  public Optional<JsonNode> get(String name) {
    return Optional.ofNullable(resources().withName(name).get()).map(AgentSessions::json);
  }

  /** The approvals of {@code session} (all sessions when null), oldest first. */
  public List<JsonNode> list(String session) {
    return resources().list().getItems().stream()
        .map(AgentSessions::json)
        .filter(a -> session == null || session.equals(a.path("spec").path("session").asText()))
        .sorted(Comparator.comparing(a -> a.path("spec").path("requestedAt").asText()))
        .toList();
  }

  /** Still waiting for a person (no decision yet). */
  public static boolean pending(JsonNode approval) {
    return approval.path("status").path("decision").asText("").isEmpty();
  }

  /**
   * Records {@code decision} (with an optional {@code message}) on the approval's status.
   *
   * @return the approval as stored, with the webhook's decidedBy
   * @throws io.fabric8.kubernetes.client.KubernetesClientException when the API server or the
   *     webhook refuses (RBAC, the asker deciding, a decision already made)
   */
  public JsonNode decide(String name, ApprovalDecision decision, String message) {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("decision", decision.wire());
    if (message != null && !message.isBlank()) {
      status.put("message", message);
    }
    GenericKubernetesResource stored =
        resources()
            .withName(name)
            .subresource("status")
            .patch(
                PatchContext.of(PatchType.JSON_MERGE),
                Serialization.asJson(Map.of("status", status)));
    return AgentSessions.json(stored);
  }

  private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<
          GenericKubernetesResource,
          io.fabric8.kubernetes.api.model.GenericKubernetesResourceList,
          io.fabric8.kubernetes.client.dsl.Resource<GenericKubernetesResource>>
      resources() {
    return client.genericKubernetesResources(CONTEXT).inNamespace(namespace);
  }
}
