package dev.capgate.sidecar.dataplane;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.testkit.Pki;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A REST API that accepts only access tokens meant for it, as a resource server must (RFC 9068 §4):
 * the RS256 signature verified against the authorization server's JWKS (JDK {@code Signature}, no
 * library between), {@code iss}, {@code exp} and {@code aud}. {@code GET /whoami} answers 200 with
 * the token's {@code sub}, {@code aud}, {@code azp} and {@code jti}, or 401 with the check that
 * failed. It keeps every token it received (to search outputs and logs for them), never prints one.
 */
final class AudienceCheckingUpstream implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;
  private final String audience;
  private final String issuer;
  private final Supplier<JsonNode> jwks;
  private final Set<String> received = ConcurrentHashMap.newKeySet();

  private AudienceCheckingUpstream(
      String audience, String issuer, Supplier<JsonNode> jwks, Pki.Issued cert, Path dir)
      throws Exception {
    this.audience = audience;
    this.issuer = issuer;
    this.jwks = jwks;
    Files.createDirectories(dir);
    cert.writeTo(dir, audience);
    server =
        vertx
            .createHttpServer(
                new HttpServerOptions()
                    .setSsl(true)
                    .setHost("127.0.0.1")
                    .setPort(0)
                    .setKeyCertOptions(
                        new PemKeyCertOptions()
                            .setCertPath(dir.resolve(audience + ".crt").toString())
                            .setKeyPath(dir.resolve(audience + ".key").toString())))
            .requestHandler(this::handle)
            .listen()
            .toCompletionStage()
            .toCompletableFuture()
            .get();
  }

  /** Serves on a free loopback port; the certificate names the host the agent calls. */
  static AudienceCheckingUpstream start(
      String audience, String issuer, Supplier<JsonNode> jwks, Pki.Issued cert, Path dir)
      throws Exception {
    return new AudienceCheckingUpstream(audience, issuer, jwks, cert, dir);
  }

  int port() {
    return server.actualPort();
  }

  /** Every bearer token this upstream was sent. */
  Set<String> received() {
    return Set.copyOf(received);
  }

  private void handle(HttpServerRequest request) {
    String authorization = request.getHeader("Authorization");
    if (authorization == null || !authorization.startsWith("Bearer ")) {
      reply(request, 401, new JsonObject().put("error", "no bearer token"));
      return;
    }
    String token = authorization.substring("Bearer ".length());
    received.add(token);
    try {
      JsonObject claims = verify(token);
      reply(
          request,
          200,
          new JsonObject()
              .put("sub", claims.getString("sub"))
              .put("aud", claims.getValue("aud"))
              .put("azp", claims.getString("azp"))
              .put("jti", claims.getString("jti"))
              .put("preferred_username", claims.getString("preferred_username"))
              .put("exp", claims.getLong("exp")));
    } catch (Exception e) {
      reply(request, 401, new JsonObject().put("error", e.getMessage()));
    }
  }

  /** Signature against the JWKS, then iss, exp, aud: the first that fails is the answer. */
  private JsonObject verify(String token) throws Exception {
    String[] parts = token.split("\\.");
    if (parts.length != 3) {
      throw new IllegalArgumentException("not a JWS");
    }
    JsonObject header = json(parts[0]);
    if (!"RS256".equals(header.getString("alg"))) {
      throw new IllegalArgumentException("alg " + header.getString("alg") + " not accepted");
    }
    Signature rsa = Signature.getInstance("SHA256withRSA");
    rsa.initVerify(key(header.getString("kid")));
    rsa.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    if (!rsa.verify(Base64.getUrlDecoder().decode(parts[2]))) {
      throw new IllegalArgumentException("bad signature");
    }
    JsonObject claims = json(parts[1]);
    if (!issuer.equals(claims.getString("iss"))) {
      throw new IllegalArgumentException("issuer " + claims.getString("iss") + " not trusted");
    }
    if (claims.getLong("exp", 0L) <= Instant.now().getEpochSecond()) {
      throw new IllegalArgumentException("expired");
    }
    Object aud = claims.getValue("aud");
    List<?> audiences = aud instanceof JsonArray a ? a.getList() : List.of(String.valueOf(aud));
    if (!audiences.contains(audience)) {
      throw new IllegalArgumentException("audience " + aud + " is not " + audience);
    }
    return claims;
  }

  private PublicKey key(String kid) throws Exception {
    for (JsonNode k : jwks.get().path("keys")) {
      if ("RSA".equals(k.path("kty").asText()) && k.path("kid").asText().equals(kid)) {
        Base64.Decoder d = Base64.getUrlDecoder();
        return KeyFactory.getInstance("RSA")
            .generatePublic(
                new RSAPublicKeySpec(
                    new BigInteger(1, d.decode(k.path("n").asText())),
                    new BigInteger(1, d.decode(k.path("e").asText()))));
      }
    }
    throw new IllegalArgumentException("unknown signing key " + kid);
  }

  private static JsonObject json(String part) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8));
  }

  private static void reply(HttpServerRequest request, int status, JsonObject body) {
    request
        .response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(body.encode());
  }

  @Override
  public void close() {
    vertx.close();
  }
}
