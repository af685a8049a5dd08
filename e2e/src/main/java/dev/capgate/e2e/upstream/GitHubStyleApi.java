package dev.capgate.e2e.upstream;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A few routes of a GitHub-style REST API, enough for the article's scenario: read a repo, open a
 * pull request, delete a repo (an admin operation Capgate must stop before it gets here), and an
 * endpoint that echoes the request headers back (what response scrubbing is for).
 */
final class GitHubStyleApi implements Consumer<HttpServerRequest> {
  private static final Pattern REPO = Pattern.compile("^/repos/([^/]+)/([^/]+)(/pulls)?$");
  private final String token;

  GitHubStyleApi(String token) {
    this.token = token;
  }

  @Override
  public void accept(HttpServerRequest request) {
    if (request.path().equals("/echo")) {
      JsonObject headers = new JsonObject();
      request
          .headers()
          .forEach(h -> headers.put(h.getKey().toLowerCase(java.util.Locale.ROOT), h.getValue()));
      request
          .response()
          .putHeader("content-type", "application/json")
          .putHeader("x-echo-authorization", String.valueOf(request.getHeader("authorization")))
          .end(new JsonObject().put("headers", headers).encode());
      return;
    }
    if (!token.equals(Responses.bearer(request))) {
      Responses.json(request, 401, Map.of("message", "Bad credentials"));
      return;
    }
    Matcher m = REPO.matcher(request.path());
    if (!m.matches()) {
      Responses.json(request, 404, Map.of("message", "Not Found"));
      return;
    }
    String fullName = m.group(1) + "/" + m.group(2);
    boolean pulls = m.group(3) != null;
    HttpMethod method = request.method();
    if (!pulls && method.equals(HttpMethod.GET)) {
      Responses.json(request, 200, Map.of("full_name", fullName, "private", true));
    } else if (pulls && method.equals(HttpMethod.POST)) {
      request
          .body()
          .onSuccess(
              body ->
                  Responses.json(
                      request,
                      201,
                      Map.of(
                          "number",
                          43,
                          "state",
                          "open",
                          "base",
                          fullName,
                          "request",
                          body.toString())));
    } else if (!pulls && method.equals(HttpMethod.DELETE)) {
      Responses.json(request, 204, Map.of());
    } else {
      Responses.json(request, 405, Map.of("message", "Method Not Allowed"));
    }
  }
}
