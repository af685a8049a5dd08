package dev.capgate.sidecar.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capgate.sidecar.policy.McpRules;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Judges one MCP POST body (Streamable HTTP: a JSON-RPC message, or a batch of them) against a
 * rule's {@link McpRules} before anything goes upstream. Every {@code tools/call} must name an
 * allowed tool with arguments that satisfy it; other methods, notifications and responses pass. A
 * batch is judged whole, like a git push: if one call in it is refused, none of it goes upstream,
 * and each request in it is answered with an error (the refused call with its reason, the others
 * saying which call refused the batch), so that the server never sees half a batch.
 */
public final class McpRequestJudge {
  /** Largest POST body read to judge it; an MCP message is small, a larger one is refused. */
  public static final int MAX_BODY_BYTES = 1 << 20;

  private McpRequestJudge() {}

  /** The body was larger than {@link #MAX_BODY_BYTES}. */
  public static McpVerdict tooLarge(McpRules rules) {
    String reason = "mcp-request-too-large: over " + MAX_BODY_BYTES + " bytes";
    return new McpVerdict.Refuse(
        413,
        JsonRpc.bytes(
            List.of(
                JsonRpc.error(
                    null,
                    JsonRpc.INVALID_REQUEST,
                    "capgate: request refused by rule '"
                        + rules.rule()
                        + "': body over "
                        + MAX_BODY_BYTES
                        + " bytes",
                    null)),
            false),
        List.of(),
        reason);
  }

  /** A body the sidecar will not read (e.g. compressed): refused as a JSON-RPC parse error. */
  public static McpVerdict unreadable(McpRules rules, String why) {
    return parseError(rules, why);
  }

  public static McpVerdict judge(McpRules rules, byte[] body) {
    JsonRpc.Messages parsed;
    try {
      parsed = JsonRpc.parse(body);
    } catch (JsonRpc.NotJson e) {
      return parseError(rules, e.getMessage());
    }
    if (parsed.messages().isEmpty()) {
      return invalid(rules, "an empty batch");
    }
    Set<JsonNode> listIds = new LinkedHashSet<>();
    Set<JsonNode> callIds = new LinkedHashSet<>();
    List<ToolCallOutcome> outcomes = new ArrayList<>();
    List<String> said = new ArrayList<>();
    List<Refused> refused = new ArrayList<>();
    for (JsonNode message : parsed.messages()) {
      if (!message.isObject()) {
        return invalid(rules, "a message that is not a JSON object");
      }
      String method = JsonRpc.method(message);
      JsonNode id = JsonRpc.requestId(message);
      if (method == null) {
        said.add(JsonRpc.responseId(message) != null ? "response" : "message without method");
        continue;
      }
      if ("tools/list".equals(method) && id != null) {
        listIds.add(id);
      }
      if (!"tools/call".equals(method)) {
        said.add(shorten(method)); // the agent's text: cut short for the audit line
        continue;
      }
      JsonNode params = message.get("params");
      JsonNode name = params == null ? null : params.get("name");
      String tool = name != null && name.isTextual() ? name.asText() : null;
      JsonNode arguments = params == null ? null : params.get("arguments");
      String why = rules.refusal(tool, arguments);
      String label = tool != null && rules.allowsTool(tool) ? tool : ToolCallOutcome.OTHER_TOOL;
      // The tool name in the audit line is the agent's text: quoted and cut short.
      String shown = tool == null ? "(none)" : "'" + shorten(tool) + "'";
      if (why == null) {
        outcomes.add(new ToolCallOutcome(label, "allowed"));
        said.add("tools/call " + shown + " allowed");
        if (id != null) {
          callIds.add(id);
        }
      } else {
        boolean byTool = tool == null || !rules.allowsTool(tool);
        outcomes.add(new ToolCallOutcome(label, byTool ? "tool-denied" : "arguments-denied"));
        String shownWhy =
            byTool ? "tool " + shown + " is not allowed by rule '" + rules.rule() + "'" : why;
        said.add("tools/call " + shown + " denied");
        refused.add(new Refused(id, tool == null ? null : shorten(tool), shownWhy, byTool));
      }
    }
    String summary = "mcp: " + summarize(said);
    if (refused.isEmpty()) {
      return new McpVerdict.Forward(listIds, callIds, outcomes, summary);
    }
    Refused first = refused.getFirst();
    String auditReason =
        (first.byTool ? "mcp-tool-denied: " : "mcp-arguments-denied: ")
            + first.reason
            + (parsed.batch() ? " (batch of " + parsed.messages().size() + " refused whole)" : "")
            + "; "
            + summary;
    List<ObjectNode> answers = new ArrayList<>();
    Set<JsonNode> answered = new HashSet<>();
    for (Refused r : refused) {
      if (r.id != null && answered.add(r.id)) {
        answers.add(
            JsonRpc.error(
                r.id,
                JsonRpc.POLICY_DENIED,
                "capgate: tools/call denied: " + r.reason,
                JsonRpc.data(rules.rule(), r.tool, r.reason)));
      }
    }
    for (JsonNode message : parsed.messages()) {
      JsonNode id = JsonRpc.requestId(message);
      if (id != null && answered.add(id)) {
        String why =
            "the batch was refused whole: a tools/call in it was denied by rule '"
                + rules.rule()
                + "'";
        answers.add(
            JsonRpc.error(
                id,
                JsonRpc.POLICY_DENIED,
                "capgate: " + why,
                JsonRpc.data(rules.rule(), null, why)));
      }
    }
    if (answers.isEmpty()) {
      return new McpVerdict.Refuse(202, new byte[0], outcomes, auditReason);
    }
    return new McpVerdict.Refuse(
        200, JsonRpc.bytes(answers, parsed.batch()), outcomes, auditReason);
  }

  private record Refused(JsonNode id, String tool, String reason, boolean byTool) {}

  private static McpVerdict parseError(McpRules rules, String why) {
    return new McpVerdict.Refuse(
        400,
        JsonRpc.bytes(
            List.of(
                JsonRpc.error(
                    null,
                    JsonRpc.PARSE_ERROR,
                    "capgate: rule '" + rules.rule() + "' reads MCP messages: " + why,
                    null)),
            false),
        List.of(),
        "mcp-parse-error: " + why);
  }

  private static McpVerdict invalid(McpRules rules, String why) {
    return new McpVerdict.Refuse(
        400,
        JsonRpc.bytes(
            List.of(
                JsonRpc.error(
                    null,
                    JsonRpc.INVALID_REQUEST,
                    "capgate: rule '" + rules.rule() + "' reads JSON-RPC requests, not " + why,
                    null)),
            false),
        List.of(),
        "mcp-invalid-request: " + why);
  }

  private static String shorten(String text) {
    return text.length() > 128 ? text.substring(0, 128) + "..." : text;
  }

  /** At most a few methods, so that a long batch does not make a long audit line. */
  private static String summarize(List<String> said) {
    if (said.size() <= 4) {
      return String.join(", ", said);
    }
    return String.join(", ", said.subList(0, 4)) + " and " + (said.size() - 4) + " more";
  }
}
