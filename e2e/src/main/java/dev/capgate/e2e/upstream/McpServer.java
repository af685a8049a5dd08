package dev.capgate.e2e.upstream;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A remote MCP server over HTTP (the Streamable HTTP transport, JSON responses): initialize,
 * tools/list and tools/call of one tool, {@code whoami}. It requires a bearer token, as an MCP
 * server acting as an OAuth resource server would.
 */
final class McpServer implements Consumer<HttpServerRequest> {
  static final String PROTOCOL_VERSION = "2025-06-18";
  private final String token;

  McpServer(String token) {
    this.token = token;
  }

  @Override
  public void accept(HttpServerRequest request) {
    if (!request.path().equals("/mcp") || request.method() != HttpMethod.POST) {
      Responses.json(request, 404, Map.of("error", "POST /mcp"));
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
    request
        .body()
        .onSuccess(
            body -> {
              JsonObject call = body.toJsonObject();
              Object id = call.getValue("id");
              if (id == null) {
                request.response().setStatusCode(202).end();
                return;
              }
              JsonObject result =
                  switch (call.getString("method", "")) {
                    case "initialize" ->
                        new JsonObject()
                            .put("protocolVersion", PROTOCOL_VERSION)
                            .put("capabilities", new JsonObject().put("tools", new JsonObject()))
                            .put(
                                "serverInfo",
                                new JsonObject()
                                    .put("name", "capgate-e2e-mcp")
                                    .put("version", "1.0.0"));
                    case "tools/list" ->
                        new JsonObject()
                            .put(
                                "tools",
                                new JsonArray()
                                    .add(
                                        new JsonObject()
                                            .put("name", "whoami")
                                            .put(
                                                "description",
                                                "Says which credential reached the server")
                                            .put(
                                                "inputSchema",
                                                new JsonObject().put("type", "object"))));
                    case "tools/call" ->
                        new JsonObject()
                            .put(
                                "content",
                                new JsonArray()
                                    .add(
                                        new JsonObject()
                                            .put("type", "text")
                                            .put(
                                                "text",
                                                "authenticated by Capgate-injected token")));
                    default -> null;
                  };
              JsonObject reply = new JsonObject().put("jsonrpc", "2.0").put("id", id);
              if (result == null) {
                reply.put(
                    "error",
                    new JsonObject().put("code", -32601).put("message", "method not found"));
              } else {
                reply.put("result", result);
              }
              request.response().putHeader("content-type", "application/json").end(reply.encode());
            });
  }
}
