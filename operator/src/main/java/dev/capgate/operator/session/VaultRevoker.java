package dev.capgate.operator.session;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Revokes Vault leases and tokens with the operator's own Vault token: {@code sys/leases/revoke}
 * and {@code auth/token/revoke-accessor}. Something already gone counts as revoked. Plain HTTP
 * (two endpoints): the operator needs no Vault client library.
 */
public final class VaultRevoker {
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final String address;
  private final Supplier<String> token;
  private final HttpClient http;

  /** @param token read again for every call (a mounted token file may rotate) */
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

  public void revokeLease(String leaseId) {
    call("PUT", "/v1/sys/leases/revoke", "{\"lease_id\":" + json(leaseId) + "}", "lease " + leaseId);
  }

  public void revokeAccessor(String accessor) {
    // The accessor identifies the token without being it; it is safe to log.
    call("POST", "/v1/auth/token/revoke-accessor", "{\"accessor\":" + json(accessor) + "}", "token accessor " + accessor);
  }

  private void call(String method, String path, String body, String what) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(address + path))
        .timeout(TIMEOUT)
        .header("X-Vault-Token", token.get().strip())
        .header("Content-Type", "application/json")
        .method(method, HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new VaultUnavailableException("could not reach Vault at " + address + " to revoke " + what, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VaultUnavailableException("interrupted while revoking " + what, e);
    }
    int status = response.statusCode();
    if (status / 100 == 2 || alreadyGone(status, response.body())) {
      return;
    }
    throw new VaultUnavailableException("Vault answered " + status + " to the revocation of " + what + ": "
        + abbreviate(response.body()), null);
  }

  /** Vault answers 400 "invalid accessor" / "invalid lease" for what no longer exists. */
  static boolean alreadyGone(int status, String body) {
    String b = body == null ? "" : body.toLowerCase(java.util.Locale.ROOT);
    return (status == 400 || status == 404) && (b.contains("invalid") || b.contains("not found"));
  }

  private static String abbreviate(String body) {
    return body == null ? "" : body.length() > 300 ? body.substring(0, 300) + "..." : body;
  }

  private static String json(String value) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
