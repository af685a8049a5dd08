package dev.capgate.operator.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/auth/<mount>/login {"role", "jwt"}} with {@code X-Vault-Wrap-TTL}: Vault answers
 * with a single-use wrapping token instead of the token itself, so the operator never holds a
 * session's Vault token, and the sidecar alone can unwrap it (once; an unwrap by anyone else first
 * makes the sidecar's fail, which it reports). Plain HTTP: one endpoint needs no client library.
 */
public final class VaultJwtLogin {
  static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String address;
  private final HttpClient http;

  public VaultJwtLogin(String address, javax.net.ssl.SSLContext tls) {
    this.address = address.endsWith("/") ? address.substring(0, address.length() - 1) : address;
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(TIMEOUT);
    if (tls != null) {
      builder.sslContext(tls);
    }
    this.http = builder.build();
  }

  /**
   * What Vault returned: the wrapping token (a secret: never logged) and the accessor of the
   * wrapped token (not a secret: it is what revocation uses).
   */
  public record Wrapped(String wrappingToken, String wrappedAccessor, long ttlSeconds) {
    @Override
    public String toString() {
      return "Wrapped[accessor=" + wrappedAccessor + ", ttl=" + ttlSeconds + "s]";
    }
  }

  /** Vault could not be reached or refused the login; the message says which, without the JWT. */
  public static final class LoginFailedException extends RuntimeException {
    public LoginFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public Wrapped login(String authMount, String role, String jwt, int wrapTtlSeconds) {
    String path = "/v1/auth/" + authMount + "/login";
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(address + path))
            .timeout(TIMEOUT)
            .header("Content-Type", "application/json")
            .header("X-Vault-Wrap-TTL", wrapTtlSeconds + "s")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    io.fabric8.kubernetes.client.utils.Serialization.asJson(
                        Map.of("role", role, "jwt", jwt))))
            .build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new LoginFailedException(
          "Vault is unreachable at " + address + " (" + e.getClass().getSimpleName() + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LoginFailedException("interrupted while logging in at Vault", e);
    }
    if (response.statusCode() / 100 != 2) {
      throw new LoginFailedException(
          "Vault refused the login at auth/"
              + authMount
              + "/login with role "
              + role
              + " ("
              + response.statusCode()
              + errors(response.body())
              + ")",
          null);
    }
    try {
      JsonNode wrap = JSON.readTree(response.body()).path("wrap_info");
      String token = wrap.path("token").asText("");
      String accessor = wrap.path("wrapped_accessor").asText("");
      if (token.isEmpty() || accessor.isEmpty()) {
        throw new LoginFailedException(
            "Vault's answer to the login has no wrap_info (is X-Vault-Wrap-TTL allowed?)", null);
      }
      return new Wrapped(token, accessor, wrap.path("ttl").asLong(wrapTtlSeconds));
    } catch (IOException e) {
      throw new LoginFailedException("Vault's answer to the login is not JSON", e);
    }
  }

  /** Vault's {@code errors} (messages like "role could not be found"; they hold no secret). */
  private static String errors(String body) {
    try {
      List<String> out = new ArrayList<>();
      JSON.readTree(body).path("errors").forEach(e -> out.add(e.asText()));
      String joined = String.join("; ", out);
      return joined.isEmpty()
          ? ""
          : ": " + (joined.length() > 300 ? joined.substring(0, 300) + "..." : joined);
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
