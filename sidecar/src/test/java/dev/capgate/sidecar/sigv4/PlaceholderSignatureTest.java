package dev.capgate.sidecar.sigv4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlaceholderSignatureTest {
  static final String KEY_ID = "AKIAPLACEHOLDER00001";
  static final String SECRET = "capgate-ph-s3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  static final Instant NOW = Instant.parse("2026-12-07T05:00:00Z");
  static final String AMZ_DATE = "20261207T045900Z";
  static final CredentialScope SCOPE = new CredentialScope("20261207", "us-east-1", "s3");

  /** A PUT as the aws CLI sends it, signed with {@code keyId}/{@code secret}. */
  static SignedRequest signed(
      String target, Map<String, String> extra, String keyId, String secret, String payload) {
    Map<String, List<String>> headers = new HashMap<>();
    headers.put("host", List.of("bucket-a.s3.us-east-1.amazonaws.com"));
    headers.put("x-amz-date", List.of(AMZ_DATE));
    headers.put("x-amz-content-sha256", List.of(payload));
    headers.put("content-type", List.of("text/plain"));
    extra.forEach((k, v) -> headers.put(k, List.of(v)));
    List<String> names = new ArrayList<>(headers.keySet());
    names.sort(null);
    int q = target.indexOf('?');
    SignedRequest unsigned =
        new SignedRequest(
            "PUT",
            q < 0 ? target : target.substring(0, q),
            q < 0 ? null : target.substring(q + 1),
            headers);
    String signature =
        SigV4.signature(
            secret, AMZ_DATE, SCOPE, CanonicalRequest.of(unsigned, names, payload, true));
    Map<String, List<String>> withAuth = new HashMap<>(headers);
    withAuth.put(
        "authorization", List.of(new AuthorizationHeader(keyId, SCOPE, names, signature).format()));
    return new SignedRequest(unsigned.method(), unsigned.path(), unsigned.query(), withAuth);
  }

  static SignedRequest signed(String target) {
    return signed(target, Map.of(), KEY_ID, SECRET, SigV4.UNSIGNED_PAYLOAD);
  }

  static AuthorizationHeader verify(SignedRequest request) {
    return PlaceholderSignature.verify(request, KEY_ID, SECRET, "us-east-1", "s3", NOW);
  }

  static String refusal(SignedRequest request) {
    try {
      verify(request);
    } catch (SigV4Refusal e) {
      assertThat(e.getMessage()).doesNotContain(SECRET);
      return e.error();
    }
    throw new AssertionError("not refused");
  }

  @Test
  void aRequestSignedWithThePlaceholderKeysIsVerified() {
    AuthorizationHeader auth = verify(signed("/reports/q4.csv?x-id=PutObject"));
    assertThat(auth.accessKeyId()).isEqualTo(KEY_ID);
    assertThat(auth.scope()).isEqualTo(SCOPE);
    assertThat(auth.toString()).doesNotContain(auth.signature());
    // A payload hash passes as it is: the body is not changed.
    verify(signed("/k", Map.of(), KEY_ID, SECRET, SigV4.sha256Hex("hello")));
    verify(signed("/k", Map.of(), KEY_ID, SECRET, PayloadHash.STREAMING_UNSIGNED_TRAILER));
  }

  @Test
  void aChangedRequestOrAnotherSecretIsAMismatch() {
    SignedRequest ok = signed("/reports/q4.csv");
    Map<String, List<String>> tampered = new HashMap<>(ok.headers());
    tampered.put("content-type", List.of("text/html"));
    assertThat(refusal(new SignedRequest("PUT", ok.path(), null, tampered)))
        .isEqualTo("aws-signature-mismatch");
    assertThat(refusal(new SignedRequest("PUT", "/reports/other.csv", null, ok.headers())))
        .isEqualTo("aws-signature-mismatch");
    assertThat(
            refusal(
                signed(
                    "/k",
                    Map.of(),
                    KEY_ID,
                    "capgate-ph-s3-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                    SigV4.UNSIGNED_PAYLOAD)))
        .isEqualTo("aws-signature-mismatch");
  }

  @Test
  void everyOtherShapeIsRefusedByName() {
    assertThat(refusal(signed("/k", Map.of(), "AKIAREALKEYOFTHEAGENT", SECRET, "UNSIGNED-PAYLOAD")))
        .isEqualTo("aws-signature-wrong-key");
    assertThat(
            refusal(
                signed(
                    "/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00",
                    Map.of(),
                    KEY_ID,
                    SECRET,
                    "UNSIGNED-PAYLOAD")))
        .isEqualTo("aws-presigned-url-refused");
    assertThat(
            refusal(signed("/k", Map.of(), KEY_ID, SECRET, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")))
        .isEqualTo("aws-streaming-signature-refused");
    SignedRequest ok = signed("/k");
    Map<String, List<String>> unsigned = new HashMap<>(ok.headers());
    unsigned.remove("authorization");
    assertThat(refusal(new SignedRequest("PUT", "/k", null, unsigned)))
        .isEqualTo("aws-signature-missing");
    assertThatThrownBy(
            () -> PlaceholderSignature.verify(ok, KEY_ID, SECRET, "eu-west-1", "s3", NOW))
        .isInstanceOfSatisfying(
            SigV4Refusal.class, e -> assertThat(e.error()).isEqualTo("aws-signature-wrong-scope"));
    assertThatThrownBy(
            () ->
                PlaceholderSignature.verify(
                    ok, KEY_ID, SECRET, "us-east-1", "s3", NOW.plusSeconds(16 * 60)))
        .isInstanceOfSatisfying(
            SigV4Refusal.class, e -> assertThat(e.error()).isEqualTo("aws-signature-expired"));
    assertThatThrownBy(() -> AuthorizationHeader.parse("AWS4-HMAC-SHA256 Credential=x"))
        .isInstanceOfSatisfying(
            SigV4Refusal.class, e -> assertThat(e.error()).isEqualTo("aws-signature-malformed"));
  }

  @Test
  void theResignedRequestVerifiesWithTheRealKeysAndCarriesTheSessionToken() {
    SignedRequest agent = signed("/reports/q4.csv", Map.of(), KEY_ID, SECRET, "UNSIGNED-PAYLOAD");
    AuthorizationHeader auth = verify(agent);
    String realId = "ASIAREALREALREAL0001";
    String realSecret = "realSecretKey/abc+def";
    Resigner resigner = new Resigner(auth, realId, realSecret, "token/with+chars==");
    assertThat(resigner.toString()).doesNotContain(realSecret).doesNotContain("token/");

    Map<String, List<String>> upstream = new HashMap<>(agent.headers());
    upstream.remove("authorization");
    SignedRequest out = new SignedRequest("PUT", "/reports/q4.csv", null, upstream);
    Map<String, String> set = resigner.headersFor(out);
    assertThat(set).containsEntry("X-Amz-Security-Token", "token/with+chars==");

    Map<String, List<String>> sent = new HashMap<>(upstream);
    sent.put("authorization", List.of(set.get("Authorization")));
    sent.put("x-amz-security-token", List.of(set.get("X-Amz-Security-Token")));
    AuthorizationHeader real =
        PlaceholderSignature.verify(
            new SignedRequest("PUT", "/reports/q4.csv", null, sent),
            realId,
            realSecret,
            "us-east-1",
            "s3",
            NOW);
    assertThat(real.signedHeaders()).contains("x-amz-security-token", "host", "content-type");

    // Long-term keys: no token, and the signed header names are the agent's.
    Map<String, String> longTerm = new Resigner(auth, realId, realSecret, "").headersFor(out);
    assertThat(longTerm).containsOnlyKeys("Authorization");
    assertThat(AuthorizationHeader.parse(longTerm.get("Authorization")).signedHeaders())
        .isEqualTo(auth.signedHeaders());
  }
}
