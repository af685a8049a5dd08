package dev.capgate.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * The HTTP GET a {@link ManagedProcess} judges its readiness by (etcd's /health, the apiserver's
 * /readyz, the controller-manager's /healthz). It remembers the last answer, so a start that times
 * out says what the process last replied.
 */
final class HealthProbe {
  private final HttpClient http;
  private final URI uri;
  private final Duration timeout;
  private String lastAnswer = "";

  /**
   * @param tls the client TLS context (a client certificate where the endpoint wants one), null for
   *     plain HTTP
   */
  HealthProbe(SSLContext tls, URI uri, Duration timeout) {
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
    this.http = (tls == null ? builder : builder.sslContext(tls)).build();
    this.uri = uri;
    this.timeout = timeout;
  }

  HttpResponse<String> get() throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(uri).timeout(timeout).build(),
            HttpResponse.BodyHandlers.ofString());
    lastAnswer = response.statusCode() + " " + response.body();
    return response;
  }

  /** {@code last <path>: <status> <body>}, or empty before the first answer. */
  String lastAnswer() {
    return lastAnswer.isEmpty() ? "" : "last " + uri.getPath() + ": " + lastAnswer;
  }
}
