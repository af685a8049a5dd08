package dev.capgate.sidecar.oauth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * POSTs one grant to an OAuth token endpoint (RFC 6749 §3.2, form-encoded, client credentials as
 * {@code client_id}/{@code client_secret} in the body, §2.3.1) and reads the answer. Blocking, JDK
 * {@code HttpClient}: called on virtual threads. Nothing it throws holds a token or text the server
 * wrote.
 */
final class TokenEndpoint {
  /** RFC 6749 §5.2 error codes are ASCII words; anything else is not repeated. */
  private static final Pattern ERROR_CODE = Pattern.compile("[a-z_]{1,40}");

  private static final ObjectMapper JSON = new ObjectMapper();

  private final SSLContext tls;
  private final Duration timeout;
  private final Clock clock;
  private HttpClient http; // guarded by this

  TokenEndpoint(SSLContext tls, Duration timeout, Clock clock) {
    this.tls = tls;
    this.timeout = timeout;
    this.clock = clock;
  }

  /**
   * Built at the first grant, not with the sidecar: every sidecar wraps its resolver in OAuth, few
   * sessions have an OAuth credential, and a JDK client starts a selector thread and loads ~80
   * classes (issue 13, footprint).
   */
  private synchronized HttpClient http() {
    if (http == null) {
      http =
          HttpClient.newBuilder()
              .sslContext(tls)
              .connectTimeout(timeout)
              .followRedirects(HttpClient.Redirect.NEVER)
              .build();
    }
    return http;
  }

  /**
   * @param grant the grant's short name for messages (refresh_token, token-exchange)
   * @param form the parameters, a name may repeat (audience, resource)
   * @throws GrantRefusedException the server answered with an error
   * @throws IOException no usable answer (unreachable, timeout, not JSON, no access_token)
   */
  AccessToken request(String tokenUrl, String grant, List<Map.Entry<String, String>> form)
      throws IOException, InterruptedException {
    StringBuilder body = new StringBuilder();
    for (Map.Entry<String, String> p : form) {
      if (!body.isEmpty()) {
        body.append('&');
      }
      body.append(URLEncoder.encode(p.getKey(), StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(p.getValue(), StandardCharsets.UTF_8));
    }
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(tokenUrl))
            .timeout(timeout)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build();
    Instant sent = clock.instant();
    HttpResponse<byte[]> response;
    try {
      response = http().send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      // The exception's message may name the URL only; say what failed in our own words.
      throw new IOException(
          "token endpoint "
              + hostOf(tokenUrl)
              + " unreachable ("
              + e.getClass().getSimpleName()
              + ")");
    }
    JsonNode answer;
    try {
      answer = JSON.readTree(response.body());
    } catch (IOException e) {
      answer = null;
    }
    if (response.statusCode() != 200) {
      String error = answer == null ? null : answer.path("error").asText(null);
      throw new GrantRefusedException(
          response.statusCode(),
          error != null && ERROR_CODE.matcher(error).matches() ? error : null,
          grant);
    }
    if (answer == null
        || !answer.path("access_token").isTextual()
        || answer.path("access_token").asText().isEmpty()) {
      throw new IOException(
          "token endpoint " + hostOf(tokenUrl) + " answered 200 without an access_token");
    }
    long expiresIn = answer.path("expires_in").asLong(0);
    if (expiresIn <= 0) {
      // RFC 6749 §5.1: RECOMMENDED, not required. Without it, a short life we can defend.
      expiresIn = 60;
    }
    String refresh =
        answer.path("refresh_token").isTextual() ? answer.path("refresh_token").asText() : null;
    return new AccessToken(
        answer.path("access_token").asText(), sent.plusSeconds(expiresIn), refresh);
  }

  static String hostOf(String url) {
    try {
      return URI.create(url).getAuthority();
    } catch (IllegalArgumentException e) {
      return "(invalid URL)";
    }
  }
}
