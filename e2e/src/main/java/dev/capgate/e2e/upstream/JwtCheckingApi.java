package dev.capgate.e2e.upstream;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.function.Consumer;

/**
 * An API that accepts only RS256 JWTs whose signature verifies against a JWKS and which have not
 * expired: OpenBao identity tokens ({@code internal.test}), or Keycloak access tokens ({@code
 * api.oauth.test}, which also requires the realm's issuer and its own audience, as a resource
 * server must). It answers with the token's subject, user name and audience, so a scenario can show
 * whose identity reached it.
 */
final class JwtCheckingApi implements Consumer<HttpServerRequest> {
  private final Vertx vertx;
  private final URI jwks;
  private final HttpClient http;
  private final String issuer;
  private final String audience;

  JwtCheckingApi(Vertx vertx, String jwksUrl) {
    this(vertx, jwksUrl, null);
  }

  JwtCheckingApi(Vertx vertx, String jwksUrl, String jwksCaFile) {
    this(vertx, jwksUrl, jwksCaFile, null, null);
  }

  /**
   * @param jwksCaFile PEM CA of an https OpenBao with a private CA (the local stack's), or null for
   *     the JDK's roots
   * @param issuer the {@code iss} a token must carry, or null for any
   * @param audience a value the token's {@code aud} (string or array) must hold, or null for any
   */
  JwtCheckingApi(Vertx vertx, String jwksUrl, String jwksCaFile, String issuer, String audience) {
    this.vertx = vertx;
    this.issuer = issuer;
    this.audience = audience;
    this.jwks = URI.create(jwksUrl);
    HttpClient.Builder builder = HttpClient.newBuilder();
    if (jwksCaFile != null) {
      builder.sslContext(
          dev.capgate.common.tls.PemTrust.sslContext(
              java.nio.file.Path.of(jwksCaFile), "the JWKS CA file"));
    }
    this.http = builder.build();
  }

  @Override
  public void accept(HttpServerRequest request) {
    String jwt = Responses.bearer(request);
    if (jwt == null) {
      Responses.json(request, 401, Map.of("error", "a bearer JWT is required"));
      return;
    }
    vertx
        .<JsonObject>executeBlocking(() -> verify(jwt))
        .onSuccess(
            claims ->
                Responses.json(
                    request,
                    200,
                    Map.of(
                        "sub",
                        claims.getString("sub", ""),
                        "preferred_username",
                        claims.getString("preferred_username", ""),
                        "aud",
                        String.valueOf(claims.getValue("aud")),
                        "path",
                        request.path())))
        .onFailure(
            e -> Responses.json(request, 401, Map.of("error", "invalid token: " + e.getMessage())));
  }

  /** The claims of a valid token; throws with the reason otherwise. */
  JsonObject verify(String jwt) throws Exception {
    String[] parts = jwt.split("\\.");
    if (parts.length != 3) {
      throw new IllegalArgumentException("not a JWT");
    }
    JsonObject header = new JsonObject(decode(parts[0]));
    if (!"RS256".equals(header.getString("alg"))) {
      throw new IllegalArgumentException("unexpected alg " + header.getString("alg"));
    }
    Signature rsa = Signature.getInstance("SHA256withRSA");
    rsa.initVerify(key(header.getString("kid")));
    rsa.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    if (!rsa.verify(Base64.getUrlDecoder().decode(parts[2]))) {
      throw new IllegalArgumentException("bad signature");
    }
    JsonObject claims = new JsonObject(decode(parts[1]));
    if (Instant.ofEpochSecond(claims.getLong("exp", 0L)).isBefore(Instant.now())) {
      throw new IllegalArgumentException("expired");
    }
    if (issuer != null && !issuer.equals(claims.getString("iss"))) {
      throw new IllegalArgumentException("issuer is not " + issuer);
    }
    if (audience != null && !audiences(claims.getValue("aud")).contains(audience)) {
      throw new IllegalArgumentException("audience is not " + audience);
    }
    return claims;
  }

  private PublicKey key(String kid) throws Exception {
    HttpResponse<String> response =
        http.send(HttpRequest.newBuilder(jwks).GET().build(), HttpResponse.BodyHandlers.ofString());
    JsonArray keys = new JsonObject(response.body()).getJsonArray("keys", new JsonArray());
    for (int i = 0; i < keys.size(); i++) {
      JsonObject k = keys.getJsonObject(i);
      if (kid == null || kid.equals(k.getString("kid"))) {
        return KeyFactory.getInstance("RSA")
            .generatePublic(
                new RSAPublicKeySpec(
                    new BigInteger(1, Base64.getUrlDecoder().decode(k.getString("n"))),
                    new BigInteger(1, Base64.getUrlDecoder().decode(k.getString("e")))));
      }
    }
    throw new IllegalArgumentException("unknown key id " + kid);
  }

  private static java.util.List<Object> audiences(Object aud) {
    if (aud instanceof JsonArray a) {
      return a.getList();
    }
    return aud == null ? java.util.List.of() : java.util.List.of(aud);
  }

  private static String decode(String part) {
    return new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8);
  }
}
