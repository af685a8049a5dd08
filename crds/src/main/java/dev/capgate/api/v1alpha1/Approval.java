package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.time.Duration;
import java.util.List;

/**
 * Per-request human approval on an egress rule: the sidecar holds each request the rule allows
 * until a person approves it (an {@code AgentApproval} object, decided with {@code kubectl capgate
 * approve}), and denies it when rejected or when {@link #timeout} passes.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "!has(self.timeout) || (duration(self.timeout) >= duration('1s') && duration(self.timeout) <= duration('1h'))",
    fieldPath = ".timeout",
    reason = "FieldValueInvalid",
    message = "approval.timeout must be a duration between 1s and 1h, e.g. 5m")
public record Approval(
    @Required
        @JsonPropertyDescription(
            "Whether each request this rule allows waits for a person's approval. false: the block is ignored.")
        Boolean required,
    @Pattern(Patterns.DURATION)
        @Size(max = 16)
        @JsonPropertyDescription(
            "How long a request is held for a decision before it is denied (403 approval-timed-out), e.g. 5m. Default 5m, at most 1h.")
        String timeout,
    @Size(min = 1, max = 16)
        @JsonPropertyDescription(
            "Who is expected to decide (user or group names): a hint copied into the AgentApproval for people and tools to route the request; Kubernetes RBAC on agentapprovals/status decides who can.")
        List<@Size(min = 1, max = 253) String> approvers) {

  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

  public boolean requiredOrDefault() {
    return required != null && required;
  }

  public Duration timeoutOrDefault() {
    return timeout == null ? DEFAULT_TIMEOUT : Durations.parse(timeout);
  }
}
