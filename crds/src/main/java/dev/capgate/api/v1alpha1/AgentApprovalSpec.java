package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/**
 * The held request, as the sidecar saw it after normalization. Never a header, a query, a body or a
 * credential: what a person needs to decide, and nothing an agent could use to smuggle a secret
 * into the API server.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AgentApprovalSpec(
    @Required @Size(max = 253) @JsonPropertyDescription("The AgentSession the request belongs to.")
        String session,
    @Required @Size(max = 63) @JsonPropertyDescription("The egress rule that asks for approval.")
        String rule,
    @Required @Size(max = 16) @JsonPropertyDescription("HTTP method.") String method,
    @Required @Size(max = 253) @JsonPropertyDescription("Destination host.") String host,
    @Required
        @Size(max = 2048)
        @JsonPropertyDescription("The normalized path (decoded, dot-segments removed, no query).")
        String path,
    @Required
        @Size(max = 64)
        @JsonPropertyDescription(
            "The sidecar's request id, as in the audit line and the agent's error; also this object's name.")
        String requestId,
    @Required @Size(max = 253) @JsonPropertyDescription("The pod whose request is held.")
        String pod,
    @Required @Size(max = 40) @JsonPropertyDescription("When the request arrived (RFC 3339).")
        String requestedAt,
    @Required
        @Size(max = 40)
        @JsonPropertyDescription(
            "When the sidecar stops waiting and denies the request (RFC 3339).")
        String expiresAt,
    @Size(max = 16) @JsonPropertyDescription("The rule's approvers hint (users or groups), if any.")
        List<@Size(max = 253) String> approvers,
    @Size(max = 512)
        @JsonPropertyDescription(
            "Who created this object, from the API server's authentication (set by the Capgate admission webhook, not by the creator): the pod's service account. That identity may not decide.")
        String requestedBy) {

  public AgentApprovalSpec withRequestedBy(String requestedBy) {
    return new AgentApprovalSpec(
        session,
        rule,
        method,
        host,
        path,
        requestId,
        pod,
        requestedAt,
        expiresAt,
        approvers,
        requestedBy);
  }
}
