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
            "Kubernetes-style conditions: Ready (with a reason when not), Expired, Revoked.")
        // The schema from a described twin of Fabric8's Condition, which carries no descriptions.
        @SchemaFrom(type = DescribedCondition[].class)
        List<Condition> conditions,
    @JsonPropertyDescription("When the session expires (creation + ttl), RFC 3339.")
        String expiresAt,
    @JsonPropertyDescription("Number of running pods bound to this session.") Integer pods,
    @JsonPropertyDescription("The metadata.generation this status describes.")
        Long observedGeneration) {}
