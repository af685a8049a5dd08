package dev.capgate.common.vault;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.capgate.common.tls.PemTrust;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * Vault's HTTP API as plain JSON (Jackson) over the JDK {@link HttpClient}: one call, one {@link
 * VaultReply} with the status that decides what to do next (403: log in again; 503: sealed; no
 * answer: down). No retries (the callers back off: the sidecar's {@code vault.Backoff}), no
 * redirects followed (a token goes to the configured address only), and no code path that prints a
 * token or a response body.
 *
 * <p>Blocking: call it from virtual threads or worker threads, never from an event loop.
 */
public final class VaultClient {
  public static final String TOKEN_HEADER = "X-Vault-Token";
  public static final String WRAP_TTL_HEADER = "X-Vault-Wrap-TTL";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String address;
  private final HttpClient http;
  private final Duration timeout;

  private VaultClient(String address, HttpClient http, Duration timeout) {
    this.address = address;
    this.http = http;
    this.timeout = timeout;
  }

  /**
   * @param address e.g. {@code https://vault:8200}
   * @param caFile null for the JDK's default trust; else only the PEM certificates in this file are
   *     trusted (the private CA of an https Vault inside the cluster)
   * @param timeout for connecting, and for each request
   * @throws IllegalArgumentException for an address that is not an http(s) URL or an unreadable CA
   */
  public static VaultClient create(String address, Path caFile, Duration timeout) {
    return create(
        address, caFile == null ? null : PemTrust.sslContext(caFile, "the Vault CA file"), timeout);
  }

  /**
   * @param tls null for the JDK's default trust
   */
  public static VaultClient create(String address, SSLContext tls, Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    String base = Objects.requireNonNull(address, "address").strip().replaceAll("/+$", "");
    URI uri;
    try {
      uri = URI.create(base);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the Vault address '" + address + "' is not a URL");
    }
    if (!("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
        || uri.getHost() == null
        || uri.getRawUserInfo() != null
        || uri.getRawQuery() != null) {
      throw new IllegalArgumentException(
          "the Vault address must be an http:// or https:// URL with a host (no user, no query),"
              + " got '"
              + address
              + "'");
    }
    HttpClient.Builder builder =
        HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER);
    if (tls != null) {
      builder.sslContext(tls);
    }
    return new VaultClient(base, builder.build(), timeout);
  }

  /** e.g. {@code https://vault:8200}, without a trailing slash. */
  public String address() {
    return address;
  }

  /**
   * One call.
   *
   * @param method GET, POST, PUT, DELETE, LIST
   * @param path relative to {@code /v1/}, e.g. {@code sys/leases/renew}
   * @param token null for an unauthenticated call (a login, an unwrap with the wrapping token as
   *     {@code token})
   * @param body null, or what Jackson writes as the JSON body (a {@code Map}, a record, a {@link
   *     JsonNode}); not a String, which would be written as a JSON string
   */
  public VaultReply call(String method, String path, String token, Object body) {
    return send(method, path, token, body, null);
  }

  /**
   * A call whose answer Vault response-wraps ({@code X-Vault-Wrap-TTL}): the reply's {@code
   * wrap_info} holds a single-use wrapping token instead of the answer.
   */
  public VaultReply callWrapped(
      String method, String path, String token, Object body, Duration wrapTtl) {
    return send(method, path, token, body, Objects.requireNonNull(wrapTtl, "wrapTtl"));
  }

  private VaultReply send(String method, String path, String token, Object body, Duration wrap) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(address + "/v1/" + path.replaceAll("^/+", "")))
            .timeout(timeout)
            .header("Accept", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(write(body, path)));
    if (token != null) {
      request.header(TOKEN_HEADER, token);
    }
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (wrap != null) {
      request.header(WRAP_TTL_HEADER, wrap.toSeconds() + "s");
    }
    HttpResponse<byte[]> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      // The JDK's messages name the connection or TLS problem ("Connection refused", "PKIX path
      // building failed"), never the request's headers.
      return VaultReply.noAnswer(
          e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return VaultReply.noAnswer("interrupted");
    }
    return new VaultReply(response.statusCode(), parse(response.body()));
  }

  private static byte[] write(Object body, String path) {
    if (body instanceof CharSequence) {
      throw new IllegalArgumentException(
          "the body of a Vault call is a Map, a record or a JsonNode, not a String (" + path + ")");
    }
    try {
      return JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      // Not e's message: it may quote the value.
      throw new IllegalArgumentException(
          "cannot write " + body.getClass().getSimpleName() + " as JSON for Vault (" + path + ")");
    }
  }

  private static JsonNode parse(byte[] body) {
    if (body == null || body.length == 0) {
      return MissingNode.getInstance();
    }
    try {
      JsonNode node = JSON.readTree(body);
      return node == null ? MissingNode.getInstance() : node;
    } catch (IOException e) {
      // A proxy's HTML error page, say: the status tells enough. Not e's message: it quotes the
      // body.
      return MissingNode.getInstance();
    }
  }

  @Override
  public String toString() {
    return "VaultClient[" + address + "]";
  }
}
