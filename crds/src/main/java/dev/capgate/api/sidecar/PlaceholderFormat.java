package dev.capgate.api.sidecar;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.security.SecureRandom;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Placeholder credentials (issue 8): the webhook gives agent containers {@code
 * capgate-ph-<credential>-<32 random base32 characters>} instead of a token, new for each pod, and
 * the sidecar swaps it for the real value on that credential's routes. The webhook {@link #generate
 * generates} them and writes {@link SidecarContract#PLACEHOLDERS_FILE} ({@link #toJson}); the
 * sidecar {@link #parseJson parses} it.
 */
public final class PlaceholderFormat {
  /** What every placeholder starts with; anything starting so is treated as one. */
  public static final String PREFIX = "capgate-ph-";

  /** RFC 4648 base32, lower case: 32 characters carry 160 random bits. */
  private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

  static final int RANDOM_CHARS = 32;

  /** The shortest random part a value may have and still be taken for a placeholder. */
  static final int MIN_RANDOM_CHARS = 8;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();

  private PlaceholderFormat() {}

  /** A fresh placeholder for {@code credential} (a DNS-label name). */
  public static String generate(String credential) {
    StringBuilder value = new StringBuilder(PREFIX).append(credential).append('-');
    for (int i = 0; i < RANDOM_CHARS; i++) {
      value.append(BASE32.charAt(RANDOM.nextInt(BASE32.length())));
    }
    return value.toString();
  }

  /**
   * Whether {@code value} can be a placeholder: the prefix, then lower-case letters, digits and
   * dashes (credential names are DNS labels, the random part base32).
   */
  public static boolean isWellFormed(String value) {
    return value != null
        && value.startsWith(PREFIX)
        && value.length() >= PREFIX.length() + MIN_RANDOM_CHARS
        && value.chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-');
  }

  /**
   * The placeholder access key id of an {@code awsSigV4} credential whose placeholder secret key is
   * {@code placeholder}: {@code AKIA} and 16 upper-case base32 characters, as AWS key ids look
   * (SDKs and the CLI accept it, some check the shape). Derived, not stored: the webhook sets it in
   * {@code AWS_ACCESS_KEY_ID}, the sidecar finds the credential a request was signed for by it, and
   * the placeholders file keeps one value per credential. A key id is not secret (AWS sends it in
   * every Authorization header); the secret key placeholder stays the random {@link #generate}
   * value.
   */
  public static String awsAccessKeyId(String placeholder) {
    byte[] digest;
    try {
      digest =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(placeholder.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    StringBuilder id = new StringBuilder(AWS_KEY_ID_PREFIX);
    for (int i = 0; i < 16; i++) {
      id.append(Character.toUpperCase(BASE32.charAt((digest[i] & 0xff) % BASE32.length())));
    }
    return id.toString();
  }

  /** What {@link #awsAccessKeyId} starts with: the prefix of long-term AWS access key ids. */
  public static final String AWS_KEY_ID_PREFIX = "AKIA";

  /** {@code {"<credential>": "<placeholder>", ...}}, in the map's order. */
  public static String toJson(Map<String, String> byCredential) {
    try {
      return JSON.writeValueAsString(byCredential);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The credential → placeholder map of {@link #toJson}, in file order.
   *
   * @throws IllegalArgumentException saying what is wrong, naming the credential but never
   *     repeating a value
   */
  public static Map<String, String> parseJson(String text) {
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    Map<String, String> byCredential = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new IllegalArgumentException(
            "the placeholder of credential '" + e.getKey() + "' is not a string");
      }
      byCredential.put(e.getKey(), e.getValue().asText());
    }
    checkWellFormed(byCredential);
    return byCredential;
  }

  /**
   * @throws IllegalArgumentException naming the first credential whose placeholder is not {@link
   *     #isWellFormed}
   */
  public static void checkWellFormed(Map<String, String> byCredential) {
    for (Map.Entry<String, String> e : byCredential.entrySet()) {
      if (!isWellFormed(e.getValue())) {
        // Never echo the value: not a secret, but it might be a real token put there by mistake.
        throw new IllegalArgumentException(
            "the placeholder of credential '"
                + e.getKey()
                + "' is not of the form "
                + PREFIX
                + "<credential>-<random>");
      }
    }
  }
}
