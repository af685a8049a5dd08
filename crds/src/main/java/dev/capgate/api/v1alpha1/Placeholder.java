package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

public record Placeholder(
    @Required
        @Size(min = 1, max = 128)
        @Pattern(Patterns.ENV)
        @JsonPropertyDescription(
            "Environment variable set in agent containers to the placeholder, e.g. GH_TOKEN.")
        String env) {}
