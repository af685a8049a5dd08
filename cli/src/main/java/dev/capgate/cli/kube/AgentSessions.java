package dev.capgate.cli.kube;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.AgentSession;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * AgentSessions as generic objects: read as JSON so that a status field this plugin's types do not
 * know (added by a newer operator) is kept and shown, and one an older operator lacks is absent
 * rather than an error.
 */
public final class AgentSessions {
  /** The AgentSession resource, for Fabric8's generic client. */
  public static final ResourceDefinitionContext CONTEXT =
      new ResourceDefinitionContext.Builder()
          .withGroup(AgentSession.GROUP)
          .withVersion(AgentSession.VERSION)
          .withKind("AgentSession")
          .withPlural("agentsessions")
          .withNamespaced(true)
          .build();

  private final KubernetesClient client;
  private final String namespace;

  public AgentSessions(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  public String namespace() {
    return namespace;
  }

  public Optional<JsonNode> get(String name) {
    GenericKubernetesResource r = resources().withName(name).get();
    return Optional.ofNullable(r).map(AgentSessions::json);
  }

  public List<JsonNode> list() {
    return resources().list().getItems().stream().map(AgentSessions::json).toList();
  }

  /** {@code kubectl delete agentsession NAME}: true when there was one to delete. */
  public boolean delete(String name) {
    return !resources().withName(name).delete().isEmpty();
  }

  /** A JSON merge patch on {@code metadata.annotations} (nothing else of the object changes). */
  public void annotate(String name, String key, String value) {
    String patch =
        Serialization.asJson(Map.of("metadata", Map.of("annotations", Map.of(key, value))));
    resources().withName(name).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
  }

  private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<
          GenericKubernetesResource,
          io.fabric8.kubernetes.api.model.GenericKubernetesResourceList,
          io.fabric8.kubernetes.client.dsl.Resource<GenericKubernetesResource>>
      resources() {
    return client.genericKubernetesResources(CONTEXT).inNamespace(namespace);
  }

  static JsonNode json(GenericKubernetesResource r) {
    return Serialization.jsonMapper().valueToTree(r);
  }
}
