package dev.capgate.api.identity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The session JWT the operator signs for Vault's JWT auth method (ES256, compact form): it names
 * the session, its user and the attested pod, and Vault's templated policy reads the user from it.
 * Shared so that tests on both sides (operator, sidecar) can mint and check the same tokens.
 *
 * <p>Only the JDK: {@code SHA256withECDSAinP1363Format} produces the raw {@code r || s} signature
 * JWS wants (RFC 7518 §3.4), so no JOSE library is needed for one algorithm.
 */
public final class SessionJwt {
  public static final String ALGORITHM = "ES256";

  /** The JDK's name for ECDSA over SHA-256 with the fixed-length (JWS) signature encoding. */
  public static final String JDK_SIGNATURE = "SHA256withECDSAinP1363Format";

  /** How long a session JWT is valid: it is exchanged for a Vault token at once. */
  public static final Duration LIFETIME = Duration.ofSeconds(120);

  public static final String CLAIM_USER = "user";
  public static final String CLAIM_AGENT = "agent";
  public static final String CLAIM_NAMESPACE = "namespace";
  public static final String CLAIM_SESSION = "session";
  public static final String CLAIM_SESSION_UID = "session_uid";
  public static final String CLAIM_POD = "pod";
  public static final String CLAIM_POD_UID = "pod_uid";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();
  private static final SecureRandom RANDOM = new SecureRandom();

  private SessionJwt() {}

  /**
   * What a session JWT says. Every field is required ({@code agent} may be empty, not null).
   *
   * @param issuer {@code iss} (Vault: {@code bound_issuer})
   * @param audience {@code aud} (Vault: the role's {@code bound_audiences})
   * @param user {@code sub} and {@code user}: spec.user (Vault: {@code user_claim})
   * @param issuedAt {@code iat} and {@code nbf}; {@code exp} is {@code issuedAt + lifetime}
   */
  public record Claims(
      String issuer,
      String audience,
      String user,
      String agent,
      String namespace,
      String session,
      String sessionUid,
      String pod,
      String podUid,
      Instant issuedAt,
      Duration lifetime) {
    public Claims {
      Objects.requireNonNull(issuer, "issuer");
      Objects.requireNonNull(audience, "audience");
      Objects.requireNonNull(user, "user");
      agent = agent == null ? "" : agent;
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(session, "session");
      Objects.requireNonNull(sessionUid, "sessionUid");
      Objects.requireNonNull(pod, "pod");
      Objects.requireNonNull(podUid, "podUid");
      Objects.requireNonNull(issuedAt, "issuedAt");
      lifetime = lifetime == null ? LIFETIME : lifetime;
    }
  }

  /** Signs {@code claims} with {@code keys} (EC P-256); {@code kid} = {@link #keyId(PublicKey)}. */
  public static String sign(Claims claims, KeyPair keys) {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("alg", ALGORITHM);
    header.put("typ", "JWT");
    header.put("kid", keyId(keys.getPublic()));
    long iat = claims.issuedAt().getEpochSecond();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("iss", claims.issuer());
    body.put("aud", claims.audience());
    body.put("sub", claims.user());
    body.put("iat", iat);
    body.put("nbf", iat);
    body.put("exp", iat + claims.lifetime().toSeconds());
    body.put("jti", HexFormat.of().formatHex(randomBytes(16)));
    body.put(CLAIM_USER, claims.user());
    body.put(CLAIM_AGENT, claims.agent());
    body.put(CLAIM_NAMESPACE, claims.namespace());
    body.put(CLAIM_SESSION, claims.session());
    body.put(CLAIM_SESSION_UID, claims.sessionUid());
    body.put(CLAIM_POD, claims.pod());
    body.put(CLAIM_POD_UID, claims.podUid());
    String signingInput = B64.encodeToString(json(header)) + "." + B64.encodeToString(json(body));
    try {
      Signature signature = Signature.getInstance(JDK_SIGNATURE);
      signature.initSign(keys.getPrivate());
      signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + B64.encodeToString(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign the session JWT: " + e.getMessage(), e);
    }
  }

  /**
   * Checks the signature (ES256 only) and returns the claims. Times are not checked: callers that
   * need it compare {@code exp}/{@code nbf} themselves (Vault does).
   *
   * @throws IllegalArgumentException when the token is malformed or the signature does not verify
   */
  public static Map<String, Object> verify(String jwt, PublicKey key) {
    String[] parts = jwt == null ? new String[0] : jwt.split("\\.", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException("not a compact JWS (three parts)");
    }
    Map<String, Object> header = parse(parts[0]);
    if (!ALGORITHM.equals(header.get("alg"))) {
      throw new IllegalArgumentException("alg is not " + ALGORITHM);
    }
    try {
      Signature signature = Signature.getInstance(JDK_SIGNATURE);
      signature.initVerify(key);
      signature.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      if (!signature.verify(B64D.decode(parts[2]))) {
        throw new IllegalArgumentException("the signature does not verify");
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("the signature does not verify: " + e.getMessage(), e);
    }
    return parse(parts[1]);
  }

  /** The JOSE header of a compact JWS, unverified. */
  public static Map<String, Object> header(String jwt) {
    return parse(jwt.split("\\.", -1)[0]);
  }

  /** First 16 hex characters of the SHA-256 of the public key's DER (SubjectPublicKeyInfo). */
  public static String keyId(PublicKey key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
      return HexFormat.of().formatHex(digest).substring(0, 16);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, Object> parse(String part) {
    try {
      return JSON.readValue(
          B64D.decode(part), new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("a JWT part is not base64url JSON", e);
    }
  }

  private static byte[] json(Map<String, Object> value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
