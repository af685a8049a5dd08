package dev.capgate.sidecar.sigv4;

import java.util.regex.Pattern;

/**
 * What {@code x-amz-content-sha256} may say, and what the sidecar does with it. The body is never
 * changed, so a hash of it (or {@code UNSIGNED-PAYLOAD}) stays true after re-signing. Streaming
 * uploads whose every chunk carries a signature chained from the seed signature would need every
 * chunk re-signed with the real key on the fly: refused instead (clients use them only when
 * configured to sign payloads over plain HTTP or asked to); the unsigned streaming form, whose
 * chunks carry no signature (botocore's default for uploads with checksums), passes.
 */
public final class PayloadHash {
  public static final String STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

  private PayloadHash() {}

  /**
   * The payload hash to put in the canonical request.
   *
   * @throws SigV4Refusal when it is missing or names a signed streaming payload
   */
  public static String check(SignedRequest request) {
    String value = request.single(SigV4.X_AMZ_CONTENT_SHA256);
    if (value == null) {
      throw new SigV4Refusal(
          "aws-payload-hash-missing",
          "the sidecar re-signs requests that carry exactly one x-amz-content-sha256 header (the S3"
              + " signing style, which the aws CLI and SDKs use for S3)");
    }
    if (value.equals(SigV4.UNSIGNED_PAYLOAD)
        || value.equals(STREAMING_UNSIGNED_TRAILER)
        || HEX64.matcher(value).matches()) {
      return value;
    }
    if (value.startsWith("STREAMING-")) {
      throw new SigV4Refusal(
          "aws-streaming-signature-refused",
          value
              + ": chunk signatures chained from the placeholder signature are not re-signed; send"
              + " the upload with UNSIGNED-PAYLOAD or a payload hash (the default of the aws CLI"
              + " and boto3 over HTTPS)");
    }
    throw new SigV4Refusal(
        "aws-signature-malformed", "x-amz-content-sha256 is not a known payload hash form");
  }
}
