package dev.capgate.sidecar.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;

/** The sidecar's decision on one MCP POST body ({@link McpRequestJudge}). */
public sealed interface McpVerdict {

  /** What each tools/call in the body became, for the metric. */
  List<ToolCallOutcome> outcomes();

  /** The audit line's reason (methods, tools and why; never an argument's value). */
  String auditReason();

  /**
   * The body goes upstream as it is; the answers to these requests are checked on the way back.
   *
   * @param listIds ids of the tools/list requests: their results are filtered to the allowed tools
   * @param callIds ids of the tools/call requests: their results are held to the size limit
   */
  record Forward(
      Set<JsonNode> listIds,
      Set<JsonNode> callIds,
      List<ToolCallOutcome> outcomes,
      String auditReason)
      implements McpVerdict {
    public boolean checksResponse() {
      return !listIds.isEmpty() || !callIds.isEmpty();
    }
  }

  /**
   * The body does not go upstream: the sidecar answers it.
   *
   * @param status 200 with JSON-RPC errors for refused calls (what a client shows as the call's
   *     error), 202 when nothing in the body expects an answer, 400 for a body that is not JSON-RPC
   * @param body the JSON-RPC answer (empty for 202)
   */
  record Refuse(int status, byte[] body, List<ToolCallOutcome> outcomes, String auditReason)
      implements McpVerdict {}
}
