package dev.capgate.sidecar.vault;

import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import io.github.jopenlibs.vault.json.ParseException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * Vault's HTTP API, the few calls the sidecar makes, as plain JSON over the JDK client. Not the
 * vault-java-driver: its retries and exceptions hide the status code that decides what to do next
 * (403: log in again; 503: sealed; no answer: down), and this way no code path can print a token or
 * a response body by accident. Blocking: call it from virtual threads only.
 */
public final class VaultConnection {
  /** Vault's answer; status 0 means there was none (refused, reset, timed out). */
  record Reply(int status, JsonObject body) {
    static final Reply NO_ANSWER = new Reply(0, new JsonObject());

    boolean ok() {
      return status / 100 == 2;
    }

    JsonObject object(String name) {
      JsonValue value = body.get(name);
      return value != null && value.isObject() ? value.asObject() : new JsonObject();
    }

    @Override
    public String toString() {
      return "Reply[status=" + status + "]"; // never the body: it may hold a secret
    }
  }

  private final String address;
  private final HttpClient http;
  private final Duration timeout;

  /**
   * @param address e.g. {@code https://vault:8200}; @param timeout per request
   */
  public VaultConnection(String address, HttpClient http, Duration timeout) {
    this.address = Objects.requireNonNull(address, "address").replaceAll("/+$", "");
    this.http = Objects.requireNonNull(http, "http");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /**
   * A connection with the JDK's default trust, or only {@code caFile} (PEM, one or more
   * certificates) when given: the CA of an https Vault inside the cluster.
   */
  public static VaultConnection create(String address, Path caFile, Duration timeout) {
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeout);
    if (caFile != null) {
      builder.sslContext(trusting(caFile));
    }
    return new VaultConnection(address, builder.build(), timeout);
  }

  public String address() {
    return address;
  }

  /** One call; {@code path} is relative to {@code /v1/}, {@code token} may be null (login). */
  Reply call(String method, String path, String token, JsonObject body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(address + "/v1/" + path))
            .timeout(timeout)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body.toString()));
    if (token != null) {
      request.header("X-Vault-Token", token);
    }
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return Reply.NO_ANSWER;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Reply.NO_ANSWER;
    }
    return new Reply(response.statusCode(), parse(response.body()));
  }

  private static JsonObject parse(String text) {
    if (text == null || text.isBlank()) {
      return new JsonObject();
    }
    try {
      JsonValue value = Json.parse(text);
      return value.isObject() ? value.asObject() : new JsonObject();
    } catch (ParseException e) {
      return new JsonObject(); // a proxy's HTML error page, say: the status code tells enough
    }
  }

  private static SSLContext trusting(Path caFile) {
    try {
      return PemTrust.sslContext(Files.newInputStream(caFile), "the Vault CA file " + caFile);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the Vault CA file " + caFile + ": " + e.getMessage(), e);
    }
  }
}
