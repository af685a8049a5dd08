package dev.capgate.sidecar.sigv4;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The algorithm's primitives, as AWS's "Create a signed AWS API request" page defines them. */
public final class SigV4 {
  public static final String ALGORITHM = "AWS4-HMAC-SHA256";
  public static final String TERMINATOR = "aws4_request";
  public static final String X_AMZ_DATE = "x-amz-date";
  public static final String X_AMZ_CONTENT_SHA256 = "x-amz-content-sha256";
  public static final String X_AMZ_SECURITY_TOKEN = "x-amz-security-token";
  public static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

  /** The SHA-256 of an empty payload. */
  public static final String EMPTY_SHA256 =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  private static final HexFormat HEX = HexFormat.of();

  private SigV4() {}

  public static String sha256Hex(byte[] data) {
    try {
      return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String sha256Hex(String text) {
    return sha256Hex(text.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
  static byte[] signingKey(String secretKey, String date, String region, String service) {
    byte[] k = hmac(("AWS4" + secretKey).getBytes(StandardCharsets.UTF_8), date);
    k = hmac(k, region);
    k = hmac(k, service);
    return hmac(k, TERMINATOR);
  }

  /** The string to sign: algorithm, request time, scope, hash of the canonical request. */
  public static String stringToSign(String amzDate, String scope, String canonicalRequest) {
    return ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonicalRequest);
  }

  /** The hex signature of {@code canonicalRequest} with {@code secretKey} for the given scope. */
  public static String signature(
      String secretKey, String amzDate, CredentialScope scope, String canonicalRequest) {
    byte[] key = signingKey(secretKey, scope.date(), scope.region(), scope.service());
    return HEX.formatHex(hmac(key, stringToSign(amzDate, scope.toString(), canonicalRequest)));
  }

  /** Constant-time comparison of two hex signatures. */
  static boolean sameSignature(String a, String b) {
    return MessageDigest.isEqual(
        a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * AWS's URI encoding: every byte except the unreserved {@code A-Z a-z 0-9 - _ . ~} as {@code %XX}
   * (upper-case hex), and {@code /} too unless {@code keepSlash}.
   */
  public static String uriEncode(String text, boolean keepSlash) {
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c >= 'A' && c <= 'Z'
          || c >= 'a' && c <= 'z'
          || c >= '0' && c <= '9'
          || c == '-'
          || c == '_'
          || c == '.'
          || c == '~'
          || c == '/' && keepSlash) {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }
}
