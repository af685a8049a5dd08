package dev.capgate.sidecar.vault;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.identity.VaultTokenExchange;
import dev.capgate.common.tls.PemTrust;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.common.vault.VaultStatus;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.logging.Logger;

/**
 * One login of the sidecar at Vault, through the operator: the sidecar presents its pod-bound
 * identity token (a projected service-account token with the audience {@code capgate}) to the
 * operator's {@code POST /v1/vault-token}; the operator attests the pod and its session and answers
 * with a response-wrapped Vault token for that session alone (issued by Vault's JWT auth method
 * from a session JWT the operator signs, so Vault's templated policy reads only the session's
 * user's paths); the sidecar unwraps it at Vault ({@code sys/wrapping/unwrap}). The pods' service
 * account has no Vault login of its own.
 *
 * <p>Why wrapping: the token crosses the operator's answer only inside a single-use wrapper that
 * lives a minute. If the wrapper was already unwrapped when the sidecar tries, someone else holds
 * the session's token: that is logged as a security warning (the operator also recorded the token's
 * accessor, so the session's deletion revokes it) and a new token is requested.
 *
 * <p>The identity token is read from its file at every login, never kept: the kubelet rotates it.
 * It is sent only to the operator, over TLS that trusts only the operator's CA ({@code
 * CAPGATE_OPERATOR_CA}) and checks the operator's host name or IP address. Neither it nor any Vault
 * token reaches a log line or an exception message. Blocking: virtual threads only.
 */
public final class OperatorLogin {
  private static final Logger LOG = Logger.getLogger(OperatorLogin.class.getName());

  /** One retry after a wrapper found already unwrapped; more would hide an ongoing interception. */
  static final int ATTEMPTS = 2;

  private final URI endpoint;
  private final HttpClient http;
  private final Duration timeout;
  private final Path identityTokenFile;
  private final VaultClient vault;
  private final String namespace;
  private final String session;

  OperatorLogin(
      URI endpoint,
      HttpClient http,
      Duration timeout,
      Path identityTokenFile,
      VaultClient vault,
      String namespace,
      String session) {
    this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    this.http = Objects.requireNonNull(http, "http");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.identityTokenFile = Objects.requireNonNull(identityTokenFile, "identityTokenFile");
    this.vault = Objects.requireNonNull(vault, "vault");
    this.namespace = Objects.requireNonNull(namespace, "namespace");
    this.session = Objects.requireNonNull(session, "session");
  }

  /**
   * @param operatorUrl {@code CAPGATE_OPERATOR_URL}, e.g. {@code https://10.96.0.12:443}
   * @param operatorCaPem {@code CAPGATE_OPERATOR_CA}: the only CA trusted for the operator
   * @param identityTokenFile {@code CAPGATE_IDENTITY_TOKEN_FILE}
   * @param namespace the session's namespace: the operator's answer must name it
   * @param session the session's name: likewise
   * @throws IllegalArgumentException for a URL that is not https or a CA that is not PEM
   */
  public static OperatorLogin create(
      String operatorUrl,
      String operatorCaPem,
      Path identityTokenFile,
      VaultClient vault,
      String namespace,
      String session,
      Duration timeout) {
    HttpClient http =
        HttpClient.newBuilder()
            .connectTimeout(timeout)
            .sslContext(PemTrust.sslContext(operatorCaPem, VaultTokenExchange.ENV_OPERATOR_CA))
            .followRedirects(
                HttpClient.Redirect.NEVER) // the bearer token goes to the operator only
            .build();
    return new OperatorLogin(
        endpoint(operatorUrl), http, timeout, identityTokenFile, vault, namespace, session);
  }

  /**
   * {@code <operatorUrl>/v1/vault-token}; https only, since the request carries the identity token.
   */
  static URI endpoint(String operatorUrl) {
    String base = Objects.requireNonNull(operatorUrl, "operatorUrl").strip().replaceAll("/+$", "");
    try {
      URI uri = new URI(base);
      if (!"https".equalsIgnoreCase(uri.getScheme())
          || uri.getHost() == null
          || uri.getRawQuery() != null
          || uri.getRawFragment() != null
          || uri.getRawUserInfo() != null) {
        throw new IllegalArgumentException(
            VaultTokenExchange.ENV_OPERATOR_URL
                + " must be an https:// URL with a host (and no user, query or fragment), got '"
                + operatorUrl
                + "'");
      }
      return new URI(base + VaultTokenExchange.PATH);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          VaultTokenExchange.ENV_OPERATOR_URL
              + " must be an https:// URL with a host, got '"
              + operatorUrl
              + "'");
    }
  }

  /**
   * @throws VaultReadException saying why, without any token
   */
  VaultToken login() {
    for (int attempt = 1; ; attempt++) {
      WrappedGrant grant = requestGrant();
      VaultReply reply = vault.call("POST", "sys/wrapping/unwrap", grant.wrappingToken(), null);
      if (reply.ok()) {
        return tokenOf(reply);
      }
      if (reply.status() == 0 || reply.status() >= 500) {
        throw new VaultReadException(VaultStatus.describe(reply.status(), "sys/wrapping/unwrap"));
      }
      // 400/403: the wrapper is unknown to Vault. It lived a minute and was handed over just now,
      // so the likely cause is that someone else unwrapped it first: they hold this session's
      // token.
      LOG.warning(
          "SECURITY: Vault refused to unwrap the wrapping token the operator issued for session "
              + namespace
              + "/"
              + session
              + " (HTTP "
              + reply.status()
              + "): it was already unwrapped (intercepted) or has expired; "
              + (attempt < ATTEMPTS ? "requesting a new one" : "giving up for now"));
      if (attempt >= ATTEMPTS) {
        throw new VaultReadException(
            "Vault refused to unwrap the operator's wrapping token "
                + ATTEMPTS
                + " times (HTTP "
                + reply.status()
                + "): already unwrapped (intercepted?) or expired");
      }
    }
  }

  private WrappedGrant requestGrant() {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint)
            .timeout(timeout)
            .header("Authorization", "Bearer " + readIdentityToken())
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{}"))
            .build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      // The JDK's messages name the TLS or connection problem (e.g. "PKIX path building failed",
      // "No subject alternative names matching IP address"), never the request's header.
      throw new VaultReadException(
          "cannot reach the operator at "
              + endpoint
              + ": "
              + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : " " + e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VaultReadException("interrupted while asking the operator for a Vault token");
    }
    WrappedGrant grant = WrappedGrant.parse(response.statusCode(), response.body());
    if (!namespace.equals(grant.namespace()) || !session.equals(grant.session())) {
      // Not ours: unwrapping it would give this pod another session's access.
      throw new VaultReadException(
          "the operator answered with a token for session "
              + grant.namespace()
              + "/"
              + grant.session()
              + ", not "
              + namespace
              + "/"
              + session
              + ": not used");
    }
    return grant;
  }

  private static VaultToken tokenOf(VaultReply reply) {
    JsonNode auth = reply.auth();
    String token = auth.path("client_token").asText("");
    if (token.isEmpty()) {
      throw new VaultReadException(
          "the unwrapped answer holds no Vault token (the operator wrapped something else)");
    }
    return new VaultToken(
        token,
        auth.path("accessor").asText(""),
        Duration.ofSeconds(auth.path("lease_duration").asLong(0)),
        auth.path("renewable").asBoolean(false));
  }

  private String readIdentityToken() {
    try {
      String jwt = Files.readString(identityTokenFile, StandardCharsets.UTF_8).strip();
      if (jwt.isEmpty() || !jwt.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
        throw new VaultReadException(
            "the identity token file " + identityTokenFile + " does not hold a single token");
      }
      return jwt;
    } catch (IOException e) {
      throw new VaultReadException("cannot read the identity token file " + identityTokenFile);
    }
  }

  String describe() {
    return "session " + namespace + "/" + session + " through the operator at " + endpoint;
  }
}
