package dev.capgate.sidecar.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capgate.sidecar.policy.McpRules;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The server's answer to an MCP POST whose body held {@code tools/list} or {@code tools/call}
 * requests, on its way to the agent: a {@code tools/list} result lists only the tools the rule
 * allows, and an answer larger than the rule's {@code maxResultBytes} is replaced by a JSON-RPC
 * error for the requests it answered. Works on a whole JSON body ({@link #json}) or on a {@code
 * text/event-stream}, event by event ({@link #sse}); nothing is held longer than one body or event
 * of at most that size. Credential values are masked after this by the response scrubber, as in
 * every response.
 */
public final class ResultFilter {
  private final McpRules rules;
  private final Set<JsonNode> listIds;

  /** Requests not answered yet: the ids an oversized answer is reported for. */
  private final Set<JsonNode> pending = new LinkedHashSet<>();

  private final List<String> notes = new ArrayList<>();
  private int toolsRemoved;
  private boolean tooLarge;

  public ResultFilter(McpRules rules, Set<JsonNode> listIds, Set<JsonNode> callIds) {
    this.rules = rules;
    this.listIds = Set.copyOf(listIds);
    pending.addAll(listIds);
    pending.addAll(callIds);
  }

  public int limit() {
    return rules.maxResultBytes();
  }

  /** What was done, for the audit line (null: nothing). */
  public String note() {
    List<String> all = new ArrayList<>(notes);
    if (toolsRemoved > 0) {
      all.add("mcp: tools/list filtered (" + toolsRemoved + " tools not allowed hidden)");
    }
    return all.isEmpty() ? null : String.join("; ", all);
  }

  /** An answer over the limit was replaced. */
  public boolean tooLarge() {
    return tooLarge;
  }

  // ---------------------------------------------------------------- application/json

  /** A whole JSON body: filtered; not JSON (the server's affair) is passed as it is. */
  public byte[] json(byte[] body) {
    JsonNode root;
    try {
      root = JsonRpc.JSON.readTree(body);
    } catch (IOException e) {
      return body;
    }
    if (root == null) {
      return body;
    }
    boolean changed = false;
    if (root.isArray()) {
      for (JsonNode message : root) {
        changed |= filter(message);
      }
    } else {
      changed = filter(root);
    }
    return changed ? JsonRpc.bytes(root) : body;
  }

  /** The JSON body was larger than the limit: errors for the requests it answered, instead. */
  public byte[] jsonTooLarge() {
    List<ObjectNode> errors = tooLargeErrors();
    if (errors.size() == 1) {
      return JsonRpc.bytes(errors, false);
    }
    return JsonRpc.bytes(errors, true);
  }

  private List<ObjectNode> tooLargeErrors() {
    tooLarge = true;
    String why =
        "the server's answer is larger than "
            + rules.maxResultBytes()
            + " bytes, the limit of rule '"
            + rules.rule()
            + "'";
    notes.add("mcp-result-too-large: over " + rules.maxResultBytes() + " bytes");
    List<ObjectNode> errors = new ArrayList<>();
    if (pending.size() != 1 && !pending.isEmpty()) {
      // Which request an oversized part answered is unknown: every one still open hears it.
      for (JsonNode id : pending) {
        errors.add(error(id, why));
      }
      pending.clear();
      return errors;
    }
    Iterator<JsonNode> it = pending.iterator();
    JsonNode id = it.hasNext() ? it.next() : null;
    pending.clear();
    errors.add(error(id, why));
    return errors;
  }

  private ObjectNode error(JsonNode id, String why) {
    return JsonRpc.error(
        id, JsonRpc.RESULT_TOO_LARGE, "capgate: " + why, JsonRpc.data(rules.rule(), null, why));
  }

  /** Filters one message in place; true when it changed. */
  private boolean filter(JsonNode message) {
    JsonNode id = JsonRpc.responseId(message);
    if (id == null) {
      return false; // a request or notification from the server: not an answer to filter
    }
    pending.remove(id);
    if (!listIds.contains(id)) {
      return false;
    }
    JsonNode tools = message.path("result").path("tools");
    if (!tools.isArray()) {
      return false;
    }
    ArrayNode kept = JsonRpc.JSON.createArrayNode();
    for (JsonNode tool : tools) {
      JsonNode name = tool.get("name");
      if (name != null && name.isTextual() && rules.allowsTool(name.asText())) {
        kept.add(tool);
      }
    }
    if (kept.size() == tools.size()) {
      return false;
    }
    toolsRemoved += tools.size() - kept.size();
    ((ObjectNode) message.get("result")).set("tools", kept);
    return true;
  }

  // ---------------------------------------------------------------- text/event-stream

  /** A filter for one {@code text/event-stream} body. */
  public Sse sse() {
    return new Sse();
  }

  /**
   * Splits the stream into events (a blank line ends one), filters the JSON-RPC message in each
   * event's {@code data}, and passes every other line as it came.
   */
  public final class Sse {
    private final ByteArrayOutputStream event = new ByteArrayOutputStream();

    /** After an oversized event: its remaining bytes are dropped up to its end. */
    private boolean skipping;

    /** The previous byte was a line end ({@code \n}): another one ends the event. */
    private boolean atLineStart = true;

    private Sse() {}

    /** The bytes that can go to the agent now: whole events, filtered. */
    public byte[] feed(byte[] chunk) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte b : chunk) {
        if (b == '\r') {
          if (!skipping) {
            event.write(b);
          }
          continue; // \r\n: the \n decides
        }
        boolean ends = b == '\n' && atLineStart;
        atLineStart = b == '\n';
        if (skipping) {
          if (ends) {
            skipping = false;
          }
          continue;
        }
        event.write(b);
        if (ends) {
          out.writeBytes(filterEvent(event.toByteArray()));
          event.reset();
        } else if (event.size() > rules.maxResultBytes()) {
          event.reset();
          skipping = true;
          out.writeBytes(errorEvent());
        }
      }
      return out.toByteArray();
    }

    /** The stream ended: what is left of an unfinished event, as it came. */
    public byte[] finish() {
      byte[] rest = skipping ? new byte[0] : event.toByteArray();
      event.reset();
      return rest;
    }

    private byte[] errorEvent() {
      StringBuilder out = new StringBuilder();
      for (ObjectNode error : tooLargeErrors()) {
        out.append("event: message\ndata: ")
            .append(new String(JsonRpc.bytes(error), StandardCharsets.UTF_8))
            .append("\n\n");
      }
      return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private byte[] filterEvent(byte[] raw) {
      String text = new String(raw, StandardCharsets.UTF_8);
      String[] lines = text.split("\r?\n", -1);
      StringBuilder data = new StringBuilder();
      List<String> others = new ArrayList<>();
      boolean hasData = false;
      for (String line : lines) {
        if (line.startsWith("data:")) {
          String value = line.substring(5);
          if (value.startsWith(" ")) {
            value = value.substring(1);
          }
          if (hasData) {
            data.append('\n');
          }
          data.append(value);
          hasData = true;
        } else if (!line.isEmpty()) {
          others.add(line);
        }
      }
      if (!hasData) {
        return raw;
      }
      byte[] filtered = json(data.toString().getBytes(StandardCharsets.UTF_8));
      String now = new String(filtered, StandardCharsets.UTF_8);
      if (now.contentEquals(data)) {
        return raw;
      }
      StringBuilder out = new StringBuilder();
      for (String line : others) {
        out.append(line).append('\n');
      }
      out.append("data: ").append(now).append("\n\n");
      return out.toString().getBytes(StandardCharsets.UTF_8);
    }
  }
}
