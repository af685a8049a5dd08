package dev.capgate.operator.it;

import dev.capgate.api.identity.VaultTokenExchange;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * A sidecar's request for its Vault token: {@code POST <operator>/v1/vault-token}, trusting only
 * the operator's CA.
 */
final class VaultTokenClient {
  private VaultTokenClient() {}

  /**
   * @param bearer the identity token; empty: no Authorization header
   */
  static HttpResponse<String> ask(String operatorUrl, String caPem, String bearer, String body) {
    try {
      SSLContext tls = CaTrust.trustingOnly(caPem);
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(operatorUrl + VaultTokenExchange.PATH))
              .timeout(Duration.ofSeconds(30))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body));
      if (!bearer.isEmpty()) {
        request.header("Authorization", "Bearer " + bearer);
      }
      try (HttpClient http = HttpClient.newBuilder().sslContext(tls).build()) {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      }
    } catch (Exception e) {
      throw new IllegalStateException("could not call the operator at " + operatorUrl, e);
    }
  }
}
