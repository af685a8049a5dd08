package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Schema only: the shape of Fabric8's {@link io.fabric8.kubernetes.api.model.Condition} with a
 * description on every field, swapped in by the CRD generator so that {@code kubectl explain
 * agentsession.status.conditions} explains each one. Code reads and writes the Fabric8 type.
 */
record DescribedCondition(
    @JsonPropertyDescription("Ready, Expired, Revoked or Recovered.") String type,
    @JsonPropertyDescription("True, False or Unknown.") String status,
    @JsonPropertyDescription("A machine-readable CamelCase reason for the last transition.")
        String reason,
    @JsonPropertyDescription("A human-readable explanation of the last transition.") String message,
    @JsonPropertyDescription("When the status last changed, RFC 3339.") String lastTransitionTime,
    @JsonPropertyDescription("The metadata.generation the condition was set from.")
        Long observedGeneration) {}
