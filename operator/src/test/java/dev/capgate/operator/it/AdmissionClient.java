package dev.capgate.operator.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capgate.operator.webhook.AdmissionReviews;
import io.fabric8.kubernetes.api.model.Pod;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;

/**
 * Talks to one operator replica's webhook directly, as the API server would: an AdmissionReview
 * over HTTPS, verified against the webhook's CA. For tests that need to know which replica answered
 * (the API server picks any behind a Service).
 */
final class AdmissionClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http;
  private final URI uri;

  AdmissionClient(int port, String caPem) {
    this.uri = URI.create("https://127.0.0.1:" + port + "/mutate");
    this.http =
        HttpClient.newBuilder()
            .sslContext(CaTrust.trustingOnly(caPem))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  /** A CREATE of {@code pod} in {@code namespace}; returns the AdmissionReview's response. */
  JsonNode create(String namespace, Pod pod) throws Exception {
    HttpResponse<String> response = post(createReview(namespace, pod).toString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(
          "webhook answered " + response.statusCode() + ": " + response.body());
    }
    return JSON.readTree(response.body()).get("response");
  }

  /** The AdmissionReview the API server sends for a CREATE of {@code pod} in {@code namespace}. */
  static ObjectNode createReview(String namespace, Pod pod) {
    return AdmissionReviews.podRequest("CREATE", null, namespace, pod, null);
  }

  /** Posts {@code body} as it is; the raw answer (status and body). */
  HttpResponse<String> post(String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(10))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The decoded JSON patch of a response. */
  static JsonNode patch(JsonNode response) throws Exception {
    return JSON.readTree(Base64.getDecoder().decode(response.get("patch").asText()));
  }
}
