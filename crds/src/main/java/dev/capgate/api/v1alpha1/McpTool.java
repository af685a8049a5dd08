package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/** One MCP tool an agent may call, and what its arguments must satisfy. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record McpTool(
    @Required
        @Size(min = 1, max = 128)
        @Pattern(Patterns.MCP_TOOL)
        @JsonPropertyDescription(
            "The tool's name, exactly as the server lists it, e.g. create_issue.")
        String name,
    @Size(min = 1, max = 16)
        @JsonPropertyDescription(
            "Conditions on the call's params.arguments; all must hold. Arguments not named here are not checked. Absent: any arguments.")
        List<ArgumentMatch> arguments) {}
