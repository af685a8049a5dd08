package dev.capgate.sidecar.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.common.vault.VaultClient;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.util.Base64;

/**
 * Verifies a JWT the way an internal API would: the signing key from OpenBao's public JWKS ({@code
 * /v1/identity/oidc/.well-known/keys}, no token needed), RS256 with the JDK's crypto.
 */
public final class Jwts {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Jwts() {}

  /**
   * @return the verified claims; throws if the signature does not verify against the JWKS
   */
  public static JsonNode verify(String jwt, String baoAddress) throws Exception {
    String[] parts = jwt.split("\\.");
    if (parts.length != 3) {
      throw new IllegalArgumentException("not a compact JWS");
    }
    JsonNode header = JSON.readTree(decode(parts[0]));
    if (!"RS256".equals(header.path("alg").asText(""))) {
      throw new IllegalArgumentException("expected RS256, got " + header.path("alg").asText(null));
    }
    PublicKey key = keyFor(header.path("kid").asText(""), baoAddress);
    Signature rs256 = Signature.getInstance("SHA256withRSA");
    rs256.initVerify(key);
    rs256.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    if (!rs256.verify(Base64.getUrlDecoder().decode(parts[2]))) {
      throw new SecurityException("JWT signature does not verify against OpenBao's JWKS");
    }
    return JSON.readTree(decode(parts[1]));
  }

  private static PublicKey keyFor(String kid, String baoAddress) throws Exception {
    JsonNode jwks =
        VaultClient.create(baoAddress, (Path) null, Duration.ofSeconds(10))
            .call("GET", "identity/oidc/.well-known/keys", null, null)
            .orThrow("GET identity/oidc/.well-known/keys")
            .body();
    for (JsonNode jwk : jwks.path("keys")) {
      if (kid.equals(jwk.path("kid").asText(null))) {
        BigInteger n = new BigInteger(1, Base64.getUrlDecoder().decode(jwk.path("n").asText("")));
        BigInteger e = new BigInteger(1, Base64.getUrlDecoder().decode(jwk.path("e").asText("")));
        return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
      }
    }
    throw new SecurityException("kid " + kid + " is not in OpenBao's JWKS");
  }

  private static String decode(String part) {
    return new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8);
  }
}
