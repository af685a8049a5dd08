package dev.capgate.sidecar.stack;

import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
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
import java.util.Base64;

/**
 * Verifies a JWT the way an internal API would: the signing key from OpenBao's public JWKS ({@code
 * /v1/identity/oidc/.well-known/keys}, no token needed), RS256 with the JDK's crypto.
 */
public final class Jwts {
  private Jwts() {}

  /**
   * @return the verified claims; throws if the signature does not verify against the JWKS
   */
  public static JsonObject verify(String jwt, String baoAddress) throws Exception {
    String[] parts = jwt.split("\\.");
    if (parts.length != 3) {
      throw new IllegalArgumentException("not a compact JWS");
    }
    JsonObject header = Json.parse(decode(parts[0])).asObject();
    if (!"RS256".equals(header.getString("alg", ""))) {
      throw new IllegalArgumentException("expected RS256, got " + header.getString("alg", null));
    }
    PublicKey key = keyFor(header.getString("kid", ""), baoAddress);
    Signature rs256 = Signature.getInstance("SHA256withRSA");
    rs256.initVerify(key);
    rs256.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    if (!rs256.verify(Base64.getUrlDecoder().decode(parts[2]))) {
      throw new SecurityException("JWT signature does not verify against OpenBao's JWKS");
    }
    return Json.parse(decode(parts[1])).asObject();
  }

  private static PublicKey keyFor(String kid, String baoAddress) throws Exception {
    HttpResponse<String> jwks =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(baoAddress + "/v1/identity/oidc/.well-known/keys"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    for (JsonValue k : Json.parse(jwks.body()).asObject().get("keys").asArray()) {
      JsonObject jwk = k.asObject();
      if (kid.equals(jwk.getString("kid", null))) {
        BigInteger n = new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("n", "")));
        BigInteger e = new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("e", "")));
        return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
      }
    }
    throw new SecurityException("kid " + kid + " is not in OpenBao's JWKS");
  }

  private static String decode(String part) {
    return new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8);
  }
}
