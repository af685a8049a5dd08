package dev.capgate.e2e.upstream;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A remote MCP server over the Streamable HTTP transport that the official SDK clients talk to:
 * {@code initialize}, {@code ping}, {@code tools/list} and {@code tools/call} of four tools that
 * take arguments ({@code whoami}, {@code create_issue(repo, title)}, {@code delete_repo(repo)},
 * {@code search(query)}), notifications (202) and JSON-RPC batches. {@code POST /mcp} answers as
 * {@code application/json}, {@code POST /mcp/sse} as {@code text/event-stream} (one event per
 * answer): the two shapes a Streamable HTTP server may choose, which Capgate's MCP rules must both
 * filter. No session id and no GET stream (405, as the transport allows).
 *
 * <p>It requires its bearer token on every request, as an MCP server acting as an OAuth resource
 * server would; that token is made for this server only (the stack's {@code mcp-token}, which no
 * other upstream accepts). Each tool call is logged as a JSON line (tool, repo, transport) so the
 * suite can tell which calls reached the server: never the token, never a title or query.
 */
final class McpServer implements Consumer<HttpServerRequest> {
  static final String PROTOCOL_VERSION = "2025-06-18";
  private final String token;
  private final Consumer<JsonObject> events;

  McpServer(String token) {
    this(token, e -> {});
  }

  McpServer(String token, Consumer<JsonObject> events) {
    this.token = token;
    this.events = events;
  }

  @Override
  public void accept(HttpServerRequest request) {
    boolean sse = request.path().equals("/mcp/sse");
    if (!sse && !request.path().equals("/mcp")) {
      Responses.json(request, 404, Map.of("error", "POST /mcp (JSON answers) or /mcp/sse (SSE)"));
      return;
    }
    if (!token.equals(Responses.bearer(request))) {
      request
          .response()
          .putHeader(
              "www-authenticate",
              "Bearer resource_metadata=\"https://mcp.test/.well-known/oauth-protected-resource\"");
      Responses.json(request, 401, Map.of("error", "invalid_token"));
      return;
    }
    if (request.method() != HttpMethod.POST) {
      // No server-initiated stream and no session to end: the transport's answer is 405.
      request.response().setStatusCode(405).putHeader("allow", "POST").end();
      return;
    }
    request
        .body()
        .onSuccess(
            body -> {
              Object message;
              try {
                message = Json.decodeValue(body);
              } catch (DecodeException e) {
                Responses.json(request, 400, Map.of("error", "not JSON"));
                return;
              }
              List<JsonObject> replies = new ArrayList<>();
              if (message instanceof JsonArray batch) {
                for (Object m : batch) {
                  if (m instanceof JsonObject call) {
                    answer(call, sse, replies);
                  }
                }
              } else if (message instanceof JsonObject call) {
                answer(call, sse, replies);
              }
              if (replies.isEmpty()) {
                request.response().setStatusCode(202).end(); // notifications, responses
              } else if (sse) {
                StringBuilder stream = new StringBuilder();
                replies.forEach(
                    r -> stream.append("event: message\ndata: ").append(r.encode()).append("\n\n"));
                request
                    .response()
                    .putHeader("content-type", "text/event-stream")
                    .putHeader("cache-control", "no-cache")
                    .end(stream.toString());
              } else {
                String json =
                    message instanceof JsonArray
                        ? new JsonArray(new ArrayList<>(replies)).encode()
                        : replies.getFirst().encode();
                request.response().putHeader("content-type", "application/json").end(json);
              }
            });
  }

  /** Adds the answer to one JSON-RPC message, if it is a request (it has an id). */
  private void answer(JsonObject call, boolean sse, List<JsonObject> replies) {
    Object id = call.getValue("id");
    String method = call.getString("method");
    if (id == null || method == null) {
      return;
    }
    JsonObject params = call.getJsonObject("params", new JsonObject());
    JsonObject reply = new JsonObject().put("jsonrpc", "2.0").put("id", id);
    JsonObject result =
        switch (method) {
          case "initialize" ->
              new JsonObject()
                  // The client's revision when it names one: this server's few methods are the
                  // same in every revision since 2025-03-26.
                  .put("protocolVersion", params.getString("protocolVersion", PROTOCOL_VERSION))
                  .put("capabilities", new JsonObject().put("tools", new JsonObject()))
                  .put(
                      "serverInfo",
                      new JsonObject().put("name", "capgate-e2e-mcp").put("version", "1.0.0"));
          case "ping" -> new JsonObject();
          case "tools/list" -> new JsonObject().put("tools", tools());
          case "tools/call" -> call(params, sse);
          default -> null;
        };
    if (result == null) {
      reply.put(
          "error",
          new JsonObject()
              .put("code", method.equals("tools/call") ? -32602 : -32601)
              .put(
                  "message",
                  method.equals("tools/call") ? "unknown tool" : "method not found: " + method));
    } else {
      reply.put("result", result);
    }
    replies.add(reply);
  }

  private JsonObject call(JsonObject params, boolean sse) {
    String tool = params.getString("name", "");
    JsonObject args = params.getJsonObject("arguments", new JsonObject());
    String text =
        switch (tool) {
          case "whoami" -> "authenticated by Capgate-injected token";
          case "create_issue" ->
              args.getString("repo") == null || args.getString("title") == null
                  ? null
                  : "created issue #1 in " + args.getString("repo");
          case "delete_repo" ->
              args.getString("repo") == null ? null : "deleted " + args.getString("repo");
          case "search" ->
              args.getString("query") == null ? null : "3 results for the query in acme/*";
          default -> "";
        };
    if ("".equals(text)) {
      return null;
    }
    events.accept(
        new JsonObject()
            .put("mcp", "tools/call")
            .put("tool", tool)
            .put("repo", args.getString("repo"))
            .put("transport", sse ? "sse" : "json")
            .put("authorization", "verified"));
    boolean missing = text == null;
    return new JsonObject()
        .put(
            "content",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("type", "text")
                        .put("text", missing ? "missing arguments for " + tool : text)))
        .put("isError", missing);
  }

  private static JsonArray tools() {
    return new JsonArray()
        .add(tool("whoami", "Says which credential reached the server", Map.of()))
        .add(
            tool(
                "create_issue",
                "Opens an issue in a repository",
                Map.of("repo", "owner/name", "title", "the issue's title")))
        .add(tool("delete_repo", "Deletes a repository", Map.of("repo", "owner/name")))
        .add(tool("search", "Searches code", Map.of("query", "what to look for")));
  }

  private static JsonObject tool(String name, String description, Map<String, String> args) {
    JsonObject properties = new JsonObject();
    args.forEach(
        (arg, what) ->
            properties.put(arg, new JsonObject().put("type", "string").put("description", what)));
    return new JsonObject()
        .put("name", name)
        .put("description", description)
        .put(
            "inputSchema",
            new JsonObject()
                .put("type", "object")
                .put("properties", properties)
                .put(
                    "required",
                    new JsonArray(new ArrayList<>(args.keySet().stream().sorted().toList()))));
  }
}
