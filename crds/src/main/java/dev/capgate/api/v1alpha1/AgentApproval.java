package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn.Type;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A request held by a sidecar until a person decides on it (an egress rule with {@code approval}).
 * The sidecar creates it in the session's namespace, owned by the session; a person approves or
 * rejects it on its status subresource ({@code kubectl capgate approve|reject}).
 */
@Group(AgentSession.GROUP)
@Version(AgentSession.VERSION)
@ShortNames("agap")
@Categories("capgate")
@AdditionalPrinterColumn(name = "Session", jsonPath = ".spec.session", type = Type.STRING)
@AdditionalPrinterColumn(name = "Rule", jsonPath = ".spec.rule", type = Type.STRING)
@AdditionalPrinterColumn(name = "Method", jsonPath = ".spec.method", type = Type.STRING)
@AdditionalPrinterColumn(name = "Host", jsonPath = ".spec.host", type = Type.STRING)
@AdditionalPrinterColumn(name = "Path", jsonPath = ".spec.path", type = Type.STRING)
@AdditionalPrinterColumn(name = "State", jsonPath = ".status.decision", type = Type.STRING)
@AdditionalPrinterColumn(name = "Decided-By", jsonPath = ".status.decidedBy", type = Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
public class AgentApproval extends CustomResource<AgentApprovalSpec, AgentApprovalStatus>
    implements Namespaced {

  public AgentApproval() {}

  public AgentApproval(String namespace, String name, AgentApprovalSpec spec) {
    getMetadata().setNamespace(namespace);
    getMetadata().setName(name);
    setSpec(spec);
  }

  // Overridden only to describe spec and status for `kubectl explain agentapproval`.
  @Override
  @JsonPropertyDescription(
      "The held request (written by the sidecar, immutable): session, rule, method, host,"
          + " normalized path, request id, pod. Never a header, query, body or secret.")
  @ValidationRule(
      value = "self == oldSelf",
      reason = "FieldValueForbidden",
      message = "spec is immutable: it describes the request as it was held")
  public AgentApprovalSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription(
      "The decision (status subresource): Approved or Rejected by a person, or Expired; who"
          + " decided is stamped by the Capgate admission webhook.")
  public AgentApprovalStatus getStatus() {
    return super.getStatus();
  }
}
