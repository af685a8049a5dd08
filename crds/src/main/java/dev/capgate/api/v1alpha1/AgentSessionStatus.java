package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public record AgentSessionStatus(
    @JsonPropertyDescription(
            "Pending, Active, Expired or Revoked. Sidecars let traffic through only while Active.")
        Phase phase,
    @JsonPropertyDescription(
            "Kubernetes-style conditions: Ready (with a reason when not), Expired, Revoked,"
                + " Recovered (the last recovery: RecoveryCompleted or RecoveryFailed).")
        // The schema from a described twin of Fabric8's Condition, which carries no descriptions.
        @SchemaFrom(type = DescribedCondition[].class)
        List<Condition> conditions,
    @JsonPropertyDescription("When the session expires (creation + ttl), RFC 3339.")
        String expiresAt,
    @JsonPropertyDescription("Number of running pods bound to this session.") Integer pods,
    @JsonPropertyDescription("The metadata.generation this status describes.")
        Long observedGeneration,
    @JsonPropertyDescription(
            "The value of the capgate.dev/recover annotation the operator last acted on (RFC 3339):"
                + " the session's Vault tokens and leases were revoked and its pods restarted then."
                + " A newer annotation value asks for another recovery.")
        String lastRecovery,
    @JsonPropertyDescription(
            "What the session's sidecars did: requests, denials and the last of each, summed over"
                + " its pods (reported by the sidecars every few seconds; informational).")
        SessionActivity activity) {

  /** Without recovery or activity (a session the operator has only just seen). */
  public AgentSessionStatus(
      Phase phase,
      List<Condition> conditions,
      String expiresAt,
      Integer pods,
      Long observedGeneration) {
    this(phase, conditions, expiresAt, pods, observedGeneration, null, null);
  }

  public AgentSessionStatus withConditions(List<Condition> conditions) {
    return new AgentSessionStatus(
        phase, conditions, expiresAt, pods, observedGeneration, lastRecovery, activity);
  }

  public AgentSessionStatus withLastRecovery(String lastRecovery) {
    return new AgentSessionStatus(
        phase, conditions, expiresAt, pods, observedGeneration, lastRecovery, activity);
  }

  public AgentSessionStatus withActivity(SessionActivity activity) {
    return new AgentSessionStatus(
        phase, conditions, expiresAt, pods, observedGeneration, lastRecovery, activity);
  }
}
