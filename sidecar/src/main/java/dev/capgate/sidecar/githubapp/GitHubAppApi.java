package dev.capgate.sidecar.githubapp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capgate.api.v1alpha1.GitHubPermissionLevel;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * The two calls of GitHub's REST API the sidecar makes for an App: mint an installation token
 * ({@code POST /app/installations/{id}/access_tokens}, with the App JWT) and revoke one ({@code
 * DELETE /installation/token}, with the token itself). Blocking, on the JDK's {@link HttpClient}:
 * callers run it on virtual threads. TLS trusts what the sidecar trusts for upstreams.
 *
 * <p>Every failure is a {@link GitHubAppException} whose message Capgate wrote: the HTTP status,
 * never GitHub's body (which can echo what was sent) and never a token.
 */
final class GitHubAppApi {
  static final String API_VERSION = "2022-11-28";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SSLContext trust;
  private final Duration timeout;
  private final java.net.InetSocketAddress proxy;
  private HttpClient http; // guarded by this

  /**
   * @param proxy the corporate CONNECT proxy the data plane goes through, or null for none
   */
  GitHubAppApi(SSLContext trust, Duration timeout, java.net.InetSocketAddress proxy) {
    this.trust = trust;
    this.timeout = timeout;
    this.proxy = proxy;
  }

  /**
   * Built at the first call to GitHub, not with the sidecar: most sessions have no GitHub App
   * credential, and a JDK client starts a selector thread and loads ~80 classes (issue 13).
   */
  private synchronized HttpClient http() {
    if (http == null) {
      HttpClient.Builder builder =
          HttpClient.newBuilder()
              .sslContext(trust)
              .connectTimeout(timeout)
              .followRedirects(HttpClient.Redirect.NEVER);
      if (proxy != null) {
        builder.proxy(java.net.ProxySelector.of(proxy));
      }
      http = builder.build();
    }
    return http;
  }

  /**
   * A token for {@code installationId}, limited to {@code repositories} and {@code permissions}.
   */
  InstallationToken mint(
      String apiUrl,
      String appJwt,
      long installationId,
      List<String> repositories,
      Map<String, GitHubPermissionLevel> permissions) {
    ObjectNode body = JSON.createObjectNode();
    if (!repositories.isEmpty()) {
      repositories.forEach(body.putArray("repositories")::add);
    }
    if (!permissions.isEmpty()) {
      ObjectNode p = body.putObject("permissions");
      permissions.forEach((name, level) -> p.put(name, level.name().toLowerCase(Locale.ROOT)));
    }
    URI uri = URI.create(apiUrl + "/app/installations/" + installationId + "/access_tokens");
    HttpResponse<byte[]> response =
        send(
            request(uri, appJwt)
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .header("Content-Type", "application/json")
                .build(),
            "mint an installation token");
    if (response.statusCode() != 201) {
      throw new GitHubAppException(
          "GitHub answered HTTP "
              + response.statusCode()
              + " to the installation token request"
              + hint(response.statusCode()));
    }
    try {
      JsonNode json = JSON.readTree(response.body());
      String token = json.path("token").asText(null);
      Instant expiresAt = Instant.parse(json.path("expires_at").asText(""));
      if (token == null || token.isEmpty()) {
        throw new GitHubAppException("GitHub's installation token answer holds no token");
      }
      return new InstallationToken(token, expiresAt);
    } catch (IOException | DateTimeParseException e) {
      throw new GitHubAppException("GitHub's installation token answer is not the expected JSON");
    }
  }

  /**
   * Revokes {@code token}; true when GitHub says it is gone (204), or already was (401: a token
   * GitHub no longer knows cannot be used either).
   */
  boolean revoke(String apiUrl, String token) {
    HttpResponse<byte[]> response =
        send(
            request(URI.create(apiUrl + "/installation/token"), token).DELETE().build(),
            "revoke an installation token");
    return response.statusCode() == 204 || response.statusCode() == 401;
  }

  private HttpRequest.Builder request(URI uri, String bearer) {
    return HttpRequest.newBuilder(uri)
        .timeout(timeout)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", API_VERSION)
        .header("User-Agent", "capgate-sidecar")
        .header("Authorization", "Bearer " + bearer);
  }

  private HttpResponse<byte[]> send(HttpRequest request, String what) {
    try {
      return http().send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new GitHubAppException(
          "cannot "
              + what
              + " at "
              + request.uri().getHost()
              + ": "
              + e.getClass().getSimpleName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GitHubAppException("interrupted while trying to " + what);
    }
  }

  private static String hint(int status) {
    return switch (status) {
      case 401 -> " (the App JWT was refused: wrong private key or app id, or clock skew)";
      case 404 -> " (no such installation of this App)";
      case 422 ->
          " (a repository or permission the installation does not grant, or more than 100"
              + " repositories)";
      default -> "";
    };
  }

  /** A call to GitHub failed; the message is Capgate's own and safe to log. */
  static final class GitHubAppException extends RuntimeException {
    GitHubAppException(String message) {
      super(message);
    }
  }
}
