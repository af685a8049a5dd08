package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The decision, on the status subresource: the sidecar's service account may create approvals but
 * not write their status, and the admission webhook stamps {@link #decidedBy} from the API server's
 * authentication of whoever writes it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(oldSelf.decision) || self == oldSelf",
    reason = "FieldValueForbidden",
    message = "an approval is decided once: its status cannot change after a decision")
public record AgentApprovalStatus(
    @JsonPropertyDescription(
            "Approved, Rejected or Expired; absent while pending. Set once, never changed.")
        ApprovalDecision decision,
    @Size(max = 512)
        @JsonPropertyDescription(
            "Who decided, as the API server authenticated them (stamped by the Capgate admission webhook; a value sent by the client is replaced).")
        String decidedBy,
    @Size(max = 40) @JsonPropertyDescription("When the decision was made (RFC 3339).")
        String decidedAt,
    @Size(max = 1024) @JsonPropertyDescription("Why, in the decider's words (optional).")
        String message) {}
