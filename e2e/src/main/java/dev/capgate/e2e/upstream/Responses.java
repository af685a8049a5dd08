package dev.capgate.e2e.upstream;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.Map;

final class Responses {
  private Responses() {}

  static void json(HttpServerRequest request, int status, Map<String, ?> body) {
    request
        .response()
        .setStatusCode(status)
        .putHeader("content-type", "application/json")
        .end(new JsonObject(Map.copyOf(body)).encode());
  }

  /** The bearer token of the request, or null. */
  static String bearer(HttpServerRequest request) {
    String auth = request.getHeader("authorization");
    return auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7) : null;
  }
}
