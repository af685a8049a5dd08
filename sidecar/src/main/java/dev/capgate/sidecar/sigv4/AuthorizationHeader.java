package dev.capgate.sidecar.sigv4;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A parsed {@code Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<scope>, SignedHeaders=<a;b>,
 * Signature=<hex>}. {@code toString()} leaves the signature out.
 */
public record AuthorizationHeader(
    String accessKeyId, CredentialScope scope, List<String> signedHeaders, String signature) {

  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern DATE = Pattern.compile("[0-9]{8}");
  private static final Pattern HEADER_NAME = Pattern.compile("[a-z0-9!#$%&'*+\\-.^_`|~]+");

  /** Whether {@code value} claims to be a SigV4 authorization at all. */
  public static boolean isSigV4(String value) {
    return value != null && value.startsWith(SigV4.ALGORITHM + " ");
  }

  /**
   * @throws SigV4Refusal ({@code aws-signature-malformed}) saying which part is wrong
   */
  public static AuthorizationHeader parse(String value) {
    if (!isSigV4(value)) {
      throw malformed("it does not start with " + SigV4.ALGORITHM);
    }
    String credential = null;
    String signedHeaders = null;
    String signature = null;
    for (String part : value.substring(SigV4.ALGORITHM.length() + 1).split(",")) {
      String p = part.strip();
      int eq = p.indexOf('=');
      if (eq < 0) {
        throw malformed("a component has no '='");
      }
      String key = p.substring(0, eq);
      String v = p.substring(eq + 1);
      switch (key) {
        case "Credential" -> credential = once(credential, v, key);
        case "SignedHeaders" -> signedHeaders = once(signedHeaders, v, key);
        case "Signature" -> signature = once(signature, v, key);
        default -> throw malformed("unknown component " + key);
      }
    }
    if (credential == null || signedHeaders == null || signature == null) {
      throw malformed("Credential, SignedHeaders and Signature are all required");
    }
    String[] c = credential.split("/", -1);
    if (c.length != 5 || !SigV4.TERMINATOR.equals(c[4]) || !DATE.matcher(c[1]).matches()) {
      throw malformed("Credential is not <key id>/<yyyyMMdd>/<region>/<service>/aws4_request");
    }
    if (!HEX64.matcher(signature).matches()) {
      throw malformed("Signature is not 64 lower-case hex digits");
    }
    List<String> headers = List.of(signedHeaders.split(";", -1));
    String previous = "";
    for (String h : headers) {
      if (!HEADER_NAME.matcher(h).matches() || h.compareTo(previous) <= 0) {
        throw malformed("SignedHeaders is not a sorted list of lower-case header names");
      }
      previous = h;
    }
    if (!headers.contains("host")) {
      throw malformed("SignedHeaders does not include host");
    }
    return new AuthorizationHeader(c[0], new CredentialScope(c[1], c[2], c[3]), headers, signature);
  }

  /** The header value for these parts. */
  public String format() {
    return SigV4.ALGORITHM
        + " Credential="
        + accessKeyId
        + "/"
        + scope
        + ", SignedHeaders="
        + String.join(";", signedHeaders)
        + ", Signature="
        + signature;
  }

  private static String once(String seen, String value, String key) {
    if (seen != null) {
      throw malformed(key + " appears twice");
    }
    return value;
  }

  private static SigV4Refusal malformed(String why) {
    return new SigV4Refusal("aws-signature-malformed", "the Authorization header: " + why);
  }

  @Override
  public String toString() {
    return "AuthorizationHeader[accessKeyId="
        + accessKeyId
        + ", scope="
        + scope
        + ", signedHeaders="
        + signedHeaders
        + "]";
  }
}
