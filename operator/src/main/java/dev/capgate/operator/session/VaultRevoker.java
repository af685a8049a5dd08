package dev.capgate.operator.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Revokes Vault leases and tokens with the operator's own Vault token: {@code sys/leases/revoke}
 * and {@code auth/token/revoke-accessor}; asks {@code auth/token/lookup-accessor} who a token was
 * issued to before ({@link LedgerScope}). Something already gone counts as revoked. Plain HTTP
 * (three endpoints): the operator needs no Vault client library.
 */
public final class VaultRevoker {
  static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String address;
  private final Supplier<String> token;
  private final HttpClient http;

  /**
   * @param token read again for every call (a mounted token file may rotate)
   */
  public VaultRevoker(String address, Supplier<String> token, javax.net.ssl.SSLContext tls) {
    this.address = address.endsWith("/") ? address.substring(0, address.length() - 1) : address;
    this.token = token;
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(TIMEOUT);
    if (tls != null) {
      builder.sslContext(tls);
    }
    this.http = builder.build();
  }

  /** Vault could not be asked, or said no for another reason than "already gone". */
  public static final class VaultUnavailableException extends RuntimeException {
    public VaultUnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * How a token came to be, from {@code auth/token/lookup-accessor}: {@code path} is where it was
   * issued ({@code auth/kubernetes/login}, {@code auth/token/create}, ...), {@code meta} its
   * metadata (the Kubernetes auth method sets {@code role}, {@code service_account_namespace},
   * {@code service_account_name}, {@code service_account_uid}, {@code
   * service_account_secret_name}).
   */
  public record TokenOrigin(String path, Map<String, String> meta) {
    public TokenOrigin {
      path = path == null ? "" : path;
      meta = meta == null ? Map.of() : Map.copyOf(meta);
    }
  }

  /**
   * Who the token of this accessor was issued to; empty when Vault knows no such accessor (gone).
   */
  public Optional<TokenOrigin> lookupAccessor(String accessor) {
    HttpResponse<String> response =
        send(
            "POST",
            "/v1/auth/token/lookup-accessor",
            json("accessor", accessor),
            "look up token accessor " + accessor);
    int status = response.statusCode();
    if (status / 100 == 2) {
      return Optional.of(origin(response.body(), accessor));
    }
    if (alreadyGone(status, response.body())) {
      return Optional.empty();
    }
    if (status == 403) {
      throw new VaultUnavailableException(
          "Vault refused to look up token accessor "
              + accessor
              + " (403): the operator's Vault policy needs update on auth/token/lookup-accessor",
          null);
    }
    throw new VaultUnavailableException(
        "Vault answered "
            + status
            + " to the look-up of token accessor "
            + accessor
            + ": "
            + abbreviate(response.body()),
        null);
  }

  private static TokenOrigin origin(String body, String accessor) {
    try {
      JsonNode data = JSON.readTree(body).path("data");
      Map<String, String> meta = new HashMap<>();
      data.path("meta")
          .properties()
          .forEach(
              e -> {
                if (e.getValue().isTextual()) {
                  meta.put(e.getKey(), e.getValue().asText());
                }
              });
      return new TokenOrigin(data.path("path").asText(""), meta);
    } catch (IOException e) {
      throw new VaultUnavailableException(
          "Vault's answer to the look-up of token accessor " + accessor + " is not JSON", e);
    }
  }

  public void revokeLease(String leaseId) {
    call("PUT", "/v1/sys/leases/revoke", json("lease_id", leaseId), "lease " + leaseId);
  }

  public void revokeAccessor(String accessor) {
    // The accessor identifies the token without being it; it is safe to log.
    call(
        "POST",
        "/v1/auth/token/revoke-accessor",
        json("accessor", accessor),
        "token accessor " + accessor);
  }

  private void call(String method, String path, String body, String what) {
    HttpResponse<String> response = send(method, path, body, "revoke " + what);
    int status = response.statusCode();
    if (status / 100 == 2 || alreadyGone(status, response.body())) {
      return;
    }
    throw new VaultUnavailableException(
        "Vault answered "
            + status
            + " to the revocation of "
            + what
            + ": "
            + abbreviate(response.body()),
        null);
  }

  private HttpResponse<String> send(String method, String path, String body, String what) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(address + path))
            .timeout(TIMEOUT)
            .header("X-Vault-Token", token.get().strip())
            .header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(body))
            .build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new VaultUnavailableException("could not reach Vault at " + address + " to " + what, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VaultUnavailableException("interrupted while trying to " + what, e);
    }
  }

  /** Vault answers 400 "invalid accessor" / "invalid lease" for what no longer exists. */
  static boolean alreadyGone(int status, String body) {
    String b = body == null ? "" : body.toLowerCase(java.util.Locale.ROOT);
    return (status == 400 || status == 404) && (b.contains("invalid") || b.contains("not found"));
  }

  private static String abbreviate(String body) {
    return body == null ? "" : body.length() > 300 ? body.substring(0, 300) + "..." : body;
  }

  /**
   * A one-field JSON body, written by the Kubernetes client's serializer (whatever the value
   * holds).
   */
  private static String json(String field, String value) {
    return io.fabric8.kubernetes.client.utils.Serialization.asJson(java.util.Map.of(field, value));
  }
}
