package dev.capgate.sidecar.githubapp;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The JWT a GitHub App signs to authenticate as itself (RS256): {@code iss} the App id, {@code iat}
 * a minute in the past against clock drift, {@code exp} nine minutes ahead (GitHub refuses more
 * than ten). Only the JDK's {@code SHA256withRSA}, as the session JWT does with ES256: one
 * algorithm needs no JOSE library.
 */
final class AppJwt {
  static final Duration BACKDATE = Duration.ofSeconds(60);
  static final Duration LIFETIME = Duration.ofMinutes(9);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private AppJwt() {}

  static String sign(PrivateKey key, long appId, Instant now) {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("alg", "RS256");
    header.put("typ", "JWT");
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("iat", now.minus(BACKDATE).getEpochSecond());
    body.put("exp", now.plus(LIFETIME).getEpochSecond());
    body.put("iss", Long.toString(appId));
    try {
      String input =
          B64.encodeToString(JSON.writeValueAsBytes(header))
              + "."
              + B64.encodeToString(JSON.writeValueAsBytes(body));
      Signature rsa = Signature.getInstance("SHA256withRSA");
      rsa.initSign(key);
      rsa.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + B64.encodeToString(rsa.sign());
    } catch (IOException | GeneralSecurityException e) {
      // The exception names the algorithm or the key type, never the key.
      throw new IllegalArgumentException("cannot sign the App JWT with this key", e);
    }
  }

  /**
   * The RSA key of a PEM as GitHub hands it out ({@code BEGIN RSA PRIVATE KEY}, PKCS#1) or as
   * PKCS#8 ({@code BEGIN PRIVATE KEY}).
   *
   * @throws IllegalArgumentException when the text is no such key; the message quotes none of it
   */
  static PrivateKey privateKey(String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object parsed = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      PrivateKey key =
          switch (parsed) {
            case PEMKeyPair pair -> converter.getKeyPair(pair).getPrivate();
            case PrivateKeyInfo info -> converter.getPrivateKey(info);
            case null, default -> null;
          };
      if (key == null || !"RSA".equals(key.getAlgorithm())) {
        throw new IllegalArgumentException("the App private key is not a PEM RSA private key");
      }
      return key;
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException known
          && known.getMessage().startsWith("the App private key")) {
        throw known;
      }
      throw new IllegalArgumentException("the App private key is not a PEM RSA private key");
    }
  }
}
