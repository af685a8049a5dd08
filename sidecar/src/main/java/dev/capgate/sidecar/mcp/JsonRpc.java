package dev.capgate.sidecar.mcp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;

/**
 * JSON-RPC 2.0 as MCP's Streamable HTTP carries it: one message or a batch (an array) per POST
 * body, and the error objects the sidecar answers with. Parsing is bounded by the body limit of the
 * caller and by Jackson's nesting limit, set low: an MCP message is shallow.
 */
public final class JsonRpc {
  /** JSON-RPC: the body is not JSON. */
  public static final int PARSE_ERROR = -32700;

  /** JSON-RPC: the JSON is not a request object (or an empty batch). */
  public static final int INVALID_REQUEST = -32600;

  /**
   * The sidecar's policy refused the call; in the implementation-defined server error range, so a
   * client shows it as the call's error.
   */
  public static final int POLICY_DENIED = -32001;

  /** The server's answer was larger than the rule allows. */
  public static final int RESULT_TOO_LARGE = -32002;

  static final ObjectMapper JSON = new ObjectMapper();

  static {
    JSON.getFactory()
        .setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
  }

  private JsonRpc() {}

  /** A body that is not JSON. */
  public static final class NotJson extends Exception {
    NotJson(String message) {
      super(message);
    }
  }

  /** The messages of one body: the array's elements for a batch, else the one message. */
  public record Messages(boolean batch, List<JsonNode> messages) {}

  public static Messages parse(byte[] body) throws NotJson {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw new NotJson("the body is not JSON");
    }
    if (root == null || root.isMissingNode()) {
      throw new NotJson("the body is empty");
    }
    if (root.isArray()) {
      List<JsonNode> all = new java.util.ArrayList<>(root.size());
      root.forEach(all::add);
      return new Messages(true, all);
    }
    return new Messages(false, List.of(root));
  }

  static String method(JsonNode message) {
    JsonNode m = message.get("method");
    return m != null && m.isTextual() ? m.asText() : null;
  }

  /** The id of a request (null for a notification or a response). */
  static JsonNode requestId(JsonNode message) {
    if (!message.isObject() || method(message) == null) {
      return null;
    }
    JsonNode id = message.get("id");
    return id == null || id.isNull() ? null : id;
  }

  /** The id of a response (a message with result or error and no method), or null. */
  static JsonNode responseId(JsonNode message) {
    if (!message.isObject()
        || message.has("method")
        || !(message.has("result") || message.has("error"))) {
      return null;
    }
    return message.get("id");
  }

  /** An error response: {@code {"jsonrpc":"2.0","id":…,"error":{code,message,data}}}. */
  public static ObjectNode error(JsonNode id, int code, String message, ObjectNode data) {
    ObjectNode out = JSON.createObjectNode();
    out.put("jsonrpc", "2.0");
    out.set("id", id == null ? NullNode.getInstance() : id);
    ObjectNode error = out.putObject("error");
    error.put("code", code);
    error.put("message", message);
    if (data != null) {
      error.set("data", data);
    }
    return out;
  }

  static ObjectNode data(String rule, String tool, String reason) {
    ObjectNode data = JSON.createObjectNode();
    data.put("rule", rule);
    if (tool != null) {
      data.put("tool", tool);
    }
    data.put("reason", reason);
    return data;
  }

  /** The bytes of one message, or of a batch of them. */
  static byte[] bytes(List<ObjectNode> responses, boolean batch) {
    try {
      if (!batch) {
        return JSON.writeValueAsBytes(responses.getFirst());
      }
      ArrayNode array = JSON.createArrayNode();
      responses.forEach(array::add);
      return JSON.writeValueAsBytes(array);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static byte[] bytes(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
