package dev.capgate.e2e.upstream;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A Git host: Debian git's real {@code git http-backend} (CGI) behind a front that accepts only
 * HTTP Basic auth whose password is the token — the way Git hosts take a token over HTTPS. The
 * repositories under {@code root} are bare; pushes are served too (policy, not this server, is what
 * stops an agent from pushing).
 */
final class GitSmartHttp implements Consumer<HttpServerRequest> {
  private final Vertx vertx;
  private final Path root;
  private final String token;
  private final GitHubApp app;

  GitSmartHttp(Vertx vertx, Path root, String token) {
    this(vertx, root, token, null);
  }

  /**
   * @param app whose installation tokens are accepted too (as the Basic password, as GitHub takes
   *     them: {@code x-access-token:<token>}), each within its repositories (else 404) and
   *     permissions (a push needs contents:write, else 403), or null
   */
  GitSmartHttp(Vertx vertx, Path root, String token, GitHubApp app) {
    this.vertx = vertx;
    this.root = root;
    this.token = token;
    this.app = app;
  }

  @Override
  public void accept(HttpServerRequest request) {
    String[] basic = basic(request.getHeader("authorization"));
    String user = basic != null && basic[1].equals(token) ? basic[0] : null;
    if (user == null && basic != null && app != null) {
      GitHubApp.Grant grant = app.grant(basic[1]).orElse(null);
      if (grant != null) {
        String refused = refusal(grant, request);
        if (refused != null) {
          request
              .response()
              .setStatusCode(refused.startsWith("Repository") ? 404 : 403)
              .end(refused + "\n");
          return;
        }
        user = basic[0];
      }
    }
    if (user == null) {
      unauthorized(request);
      return;
    }
    serve(request, user);
  }

  private static void unauthorized(HttpServerRequest request) {
    request
        .response()
        .setStatusCode(401)
        .putHeader("www-authenticate", "Basic realm=\"git\"")
        .end("authentication required\n");
  }

  private void serve(HttpServerRequest request, String user) {
    request
        .body()
        .onSuccess(
            body ->
                vertx
                    .<CgiResponse>executeBlocking(() -> runBackend(request, user, body))
                    .onSuccess(cgi -> cgi.writeTo(request.response()))
                    .onFailure(
                        e ->
                            request
                                .response()
                                .setStatusCode(500)
                                .end("git http-backend failed: " + e.getMessage())));
  }

  /** User name and password of Basic credentials, or null. */
  private static String[] basic(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return null;
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(authorization.substring(6).trim()),
              StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    int colon = decoded.indexOf(':');
    return colon > 0
        ? new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)}
        : null;
  }

  /**
   * Why GitHub would refuse this installation token here ({@code /owner/repo.git/...}), or null: a
   * repository outside the token is "not found", a push without contents:write is forbidden.
   */
  private static String refusal(GitHubApp.Grant grant, HttpServerRequest request) {
    String[] segments = request.path().split("/");
    if (segments.length < 3 || !segments[2].endsWith(".git")) {
      return "Repository not found.";
    }
    String repo = segments[2].substring(0, segments[2].length() - ".git".length());
    if (!grant.sees(segments[1], repo)) {
      return "Repository not found.";
    }
    boolean push =
        request.path().endsWith("/git-receive-pack")
            || "git-receive-pack".equals(request.getParam("service"));
    String level = push ? "write" : "read";
    return grant.has("contents", level)
        ? null
        : "Write access to repository not granted.".replace("Write", push ? "Write" : "Read");
  }

  private CgiResponse runBackend(HttpServerRequest request, String user, Buffer body)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("git", "http-backend");
    Map<String, String> env = pb.environment();
    env.put("GIT_PROJECT_ROOT", root.toString());
    env.put("GIT_HTTP_EXPORT_ALL", "1");
    env.put("REQUEST_METHOD", request.method().name());
    env.put("PATH_INFO", request.path());
    env.put("QUERY_STRING", request.query() == null ? "" : request.query());
    env.put("CONTENT_TYPE", String.valueOf(request.getHeader("content-type")));
    env.put("CONTENT_LENGTH", Integer.toString(body.length()));
    env.put("REMOTE_USER", user);
    env.put("REMOTE_ADDR", "127.0.0.1");
    String encoding = request.getHeader("content-encoding");
    if (encoding != null) {
      env.put("HTTP_CONTENT_ENCODING", encoding);
    }
    env.put("GIT_PROTOCOL", String.valueOf(request.getHeader("git-protocol")));
    Process git = pb.start();
    try (OutputStream in = git.getOutputStream()) {
      in.write(body.getBytes());
    }
    byte[] out;
    try (InputStream stdout = git.getInputStream()) {
      out = stdout.readAllBytes();
    }
    git.waitFor();
    return CgiResponse.parse(out);
  }

  /** A CGI response: header lines (with an optional {@code Status:}), a blank line, the body. */
  record CgiResponse(int status, Map<String, String> headers, byte[] body) {
    static CgiResponse parse(byte[] raw) {
      int split = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      int skip = 4;
      if (split < 0) {
        split = indexOf(raw, "\n\n".getBytes(StandardCharsets.US_ASCII));
        skip = 2;
      }
      if (split < 0) {
        return new CgiResponse(502, Map.of(), raw);
      }
      int status = 200;
      Map<String, String> headers = new java.util.LinkedHashMap<>();
      for (String line : new String(raw, 0, split, StandardCharsets.ISO_8859_1).split("\r?\n")) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
          continue;
        }
        String name = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("Status")) {
          status = Integer.parseInt(value.split(" ")[0]);
        } else {
          headers.put(name, value);
        }
      }
      ByteArrayOutputStream rest = new ByteArrayOutputStream();
      rest.write(raw, split + skip, raw.length - split - skip);
      return new CgiResponse(status, headers, rest.toByteArray());
    }

    void writeTo(HttpServerResponse response) {
      response.setStatusCode(status);
      headers.forEach(response::putHeader);
      response.end(Buffer.buffer(body));
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
      outer:
      for (int i = 0; i + needle.length <= haystack.length; i++) {
        for (int j = 0; j < needle.length; j++) {
          if (haystack[i + j] != needle[j]) {
            continue outer;
          }
        }
        return i;
      }
      return -1;
    }
  }
}
