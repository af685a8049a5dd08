package dev.capgate.e2e.upstream;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A few routes of a GitHub-style REST API, enough for the article's scenario: read a repo, read and
 * write its contents, open a pull request, delete a repo (an admin operation Capgate must stop
 * before it gets here), and an endpoint that echoes the request headers back (what response
 * scrubbing is for).
 *
 * <p>Two kinds of token: the static one (a personal token in Vault: everything), and, with a {@link
 * GitHubApp}, the installation tokens it mints, checked on every call as GitHub does: a repo
 * outside the token's repositories is 404, an operation beyond its permissions 403 ("Resource not
 * accessible by integration"), an expired or revoked token 401.
 */
final class GitHubStyleApi implements Consumer<HttpServerRequest> {
  private static final Pattern REPO =
      Pattern.compile("^/repos/([^/]+)/([^/]+)(/pulls|/contents/.+)?$");
  private final String token;
  private final GitHubApp app;

  GitHubStyleApi(String token) {
    this(token, null);
  }

  /**
   * @param app the App whose installation tokens are accepted too, or null
   */
  GitHubStyleApi(String token, GitHubApp app) {
    this.token = token;
    this.app = app;
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
    if (app != null && app.handle(request)) {
      return;
    }
    String presented = Responses.bearer(request);
    GitHubApp.Grant grant = null;
    if (!token.equals(presented)) {
      grant = app == null ? null : app.grant(presented).orElse(null);
      if (grant == null) {
        Responses.json(request, 401, Map.of("message", "Bad credentials"));
        return;
      }
    }
    Matcher m = REPO.matcher(request.path());
    if (!m.matches()) {
      Responses.json(request, 404, Map.of("message", "Not Found"));
      return;
    }
    String fullName = m.group(1) + "/" + m.group(2);
    String sub = m.group(3) == null ? "" : m.group(3);
    boolean pulls = sub.equals("/pulls");
    boolean contents = sub.startsWith("/contents/");
    HttpMethod method = request.method();
    // An installation token sees only its repositories: elsewhere GitHub says the repo is not
    // there, not that it is forbidden.
    if (grant != null && !grant.sees(m.group(1), m.group(2))) {
      Responses.json(request, 404, Map.of("message", "Not Found"));
      return;
    }
    String[] needs = needs(sub, method);
    if (grant != null && needs != null && !grant.has(needs[0], needs[1])) {
      Responses.json(request, 403, Map.of("message", "Resource not accessible by integration"));
      return;
    }
    if (sub.isEmpty() && method.equals(HttpMethod.GET)) {
      Responses.json(request, 200, Map.of("full_name", fullName, "private", true));
    } else if (contents && method.equals(HttpMethod.GET)) {
      Responses.json(
          request, 200, Map.of("path", sub.substring("/contents/".length()), "type", "file"));
    } else if ((pulls && method.equals(HttpMethod.POST))
        || (contents && method.equals(HttpMethod.PUT))) {
      request
          .body()
          .onSuccess(
              body ->
                  Responses.json(
                      request,
                      pulls ? 201 : 200,
                      Map.of(
                          pulls ? "number" : "path",
                          pulls ? 43 : sub.substring("/contents/".length()),
                          "state",
                          "open",
                          "base",
                          fullName,
                          "request",
                          body.toString())));
    } else if (sub.isEmpty() && method.equals(HttpMethod.DELETE)) {
      Responses.json(request, 204, Map.of());
    } else {
      Responses.json(request, 405, Map.of("message", "Method Not Allowed"));
    }
  }

  /** The permission and level GitHub wants for this route (a fine-grained token's view). */
  private static String[] needs(String sub, HttpMethod method) {
    boolean read = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
    if (sub.isEmpty()) {
      return method.equals(HttpMethod.DELETE)
          ? new String[] {"administration", "write"}
          : new String[] {"metadata", "read"};
    }
    if (sub.equals("/pulls")) {
      return new String[] {"pull_requests", read ? "read" : "write"};
    }
    return new String[] {"contents", read ? "read" : "write"};
  }
}
