package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public record Credential(
    @Required
        @Size(min = 1, max = 63)
        @Pattern(Patterns.NAME)
        @JsonPropertyDescription("Name that egress rules use to refer to this credential.")
        String name,
    @Required
        @JsonPropertyDescription(
            "Where the sidecar reads the value, at egress time, with its own Vault identity.")
        VaultSecret vault,
    @Required
        @JsonPropertyDescription(
            "How the value is put on the request. Whatever the agent sent in that header is replaced.")
        Injection inject,
    @JsonPropertyDescription(
            "For tools that refuse to start without a token: an environment variable the webhook sets in agent containers to an opaque per-pod placeholder, which the sidecar swaps for the real value on this credential's routes only.")
        Placeholder placeholder) {}
