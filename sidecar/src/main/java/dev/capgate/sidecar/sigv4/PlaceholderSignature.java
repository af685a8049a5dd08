package dev.capgate.sidecar.sigv4;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * The agent's side: the request must be signed, in the header, with the pod's placeholder keys, for
 * the credential's region and service, recently. That proves the request came from a client
 * configured with the placeholder identity (not with keys of its own, and not replayed from
 * elsewhere), and it is the request the client meant.
 */
public final class PlaceholderSignature {
  /** AWS accepts a request time up to 15 minutes away from its clock. */
  static final Duration MAX_SKEW = Duration.ofMinutes(15);

  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

  private PlaceholderSignature() {}

  /**
   * @return the agent's authorization, verified
   * @throws SigV4Refusal saying why not (never with a key or a signature in it)
   */
  public static AuthorizationHeader verify(
      SignedRequest request,
      String placeholderKeyId,
      String placeholderSecret,
      String region,
      String service,
      Instant now) {
    if (request.hasQueryParameter("X-Amz-Signature")
        || request.hasQueryParameter("X-Amz-Credential")) {
      throw new SigV4Refusal(
          "aws-presigned-url-refused",
          "presigned URLs are refused: a URL signed with the placeholder key cannot be re-signed"
              + " without handing the agent a working real URL; send the request signed in the"
              + " Authorization header instead");
    }
    if (request.header("authorization").size() != 1) {
      throw new SigV4Refusal(
          "aws-signature-missing",
          "this route re-signs AWS requests: send exactly one Authorization header signed (AWS"
              + " Signature V4) with the placeholder keys of AWS_ACCESS_KEY_ID and"
              + " AWS_SECRET_ACCESS_KEY");
    }
    AuthorizationHeader auth = AuthorizationHeader.parse(request.single("authorization"));
    if (!auth.accessKeyId().equals(placeholderKeyId)) {
      throw new SigV4Refusal(
          "aws-signature-wrong-key",
          "the request is signed with another access key than the placeholder in"
              + " AWS_ACCESS_KEY_ID");
    }
    if (!auth.scope().region().equals(region) || !auth.scope().service().equals(service)) {
      throw new SigV4Refusal(
          "aws-signature-wrong-scope",
          "signed for region "
              + auth.scope().region()
              + " and service "
              + auth.scope().service()
              + "; this credential signs for region "
              + region
              + " and service "
              + service);
    }
    String amzDate = request.single(SigV4.X_AMZ_DATE);
    if (amzDate == null || !auth.signedHeaders().contains(SigV4.X_AMZ_DATE)) {
      throw new SigV4Refusal(
          "aws-signature-malformed", "exactly one x-amz-date header, signed, is required");
    }
    Instant signedAt;
    try {
      signedAt = LocalDateTime.parse(amzDate, AMZ_DATE).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw new SigV4Refusal("aws-signature-malformed", "x-amz-date is not yyyyMMddTHHmmssZ");
    }
    if (!amzDate.startsWith(auth.scope().date())) {
      throw new SigV4Refusal(
          "aws-signature-malformed", "the Credential date is not the day of x-amz-date");
    }
    if (Duration.between(signedAt, now).abs().compareTo(MAX_SKEW) > 0) {
      throw new SigV4Refusal(
          "aws-signature-expired",
          "x-amz-date is more than 15 minutes away from the sidecar's clock");
    }
    String payload = PayloadHash.check(request);
    String canonical =
        CanonicalRequest.of(request, auth.signedHeaders(), payload, service.equals("s3"));
    String expected = SigV4.signature(placeholderSecret, amzDate, auth.scope(), canonical);
    if (!SigV4.sameSignature(expected, auth.signature())) {
      throw new SigV4Refusal(
          "aws-signature-mismatch",
          "the signature does not match the request signed with the placeholder secret key (was"
              + " the request changed after signing, or signed with another secret key?)");
    }
    return auth;
  }
}
