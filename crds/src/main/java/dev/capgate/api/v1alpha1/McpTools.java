package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/**
 * What an agent may do with a remote MCP server (Streamable HTTP) through an egress rule: the tools
 * it may call and conditions on their arguments. The sidecar reads each JSON-RPC POST body to the
 * endpoint before anything goes upstream; a call it refuses is answered with a JSON-RPC error the
 * client shows, and {@code tools/list} answers are cut down to these tools.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record McpTools(
    @Pattern(Patterns.PATH)
        @Size(max = 512)
        @JsonPropertyDescription(
            "Path pattern of the MCP endpoint, e.g. /mcp: POST bodies to it are read as JSON-RPC and judged. Absent: every POST the rule allows is.")
        String endpoint,
    @Required
        @Size(min = 1, max = 64)
        @JsonPropertyDescription(
            "Tools the agent may call. tools/call of any other tool is answered with a JSON-RPC error without reaching the server, and tools/list answers list only these.")
        List<McpTool> tools,
    @Min(1024)
        @Max(16777216)
        @JsonPropertyDescription(
            "Largest JSON-RPC answer to tools/call or tools/list (one JSON body, or one SSE event) passed to the agent, in bytes; a larger one is replaced by a JSON-RPC error. Default 1048576.")
        Integer maxResultBytes) {

  public static final int DEFAULT_MAX_RESULT_BYTES = 1 << 20;

  public int maxResultBytesOrDefault() {
    return maxResultBytes == null ? DEFAULT_MAX_RESULT_BYTES : maxResultBytes;
  }
}
