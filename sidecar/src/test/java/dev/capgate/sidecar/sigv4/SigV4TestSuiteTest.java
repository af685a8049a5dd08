package dev.capgate.sidecar.sigv4;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** AWS's published vectors (src/test/resources/sigv4-test-suite, see its NOTICE). */
class SigV4TestSuiteTest {
  static final String SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

  /** A request file of the suite: request line, {@code Name:value} lines, blank line, body. */
  record Vector(SignedRequest request, String body) {}

  static String resource(String name) throws IOException {
    try (InputStream in =
        SigV4TestSuiteTest.class.getResourceAsStream("/sigv4-test-suite/" + name)) {
      assertThat(in).as(name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static Vector vector(String name) throws IOException {
    String text = resource(name + ".req");
    int blank = text.indexOf("\n\n");
    String head = blank < 0 ? text : text.substring(0, blank);
    String body = blank < 0 ? "" : text.substring(blank + 2);
    String[] lines = head.split("\n");
    String[] requestLine = lines[0].split(" ");
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.add(
          new AbstractMap.SimpleEntry<>(
              lines[i].substring(0, colon), lines[i].substring(colon + 1)));
    }
    return new Vector(SignedRequest.of(requestLine[0], requestLine[1], headers), body);
  }

  static String sign(String name, String secret, boolean s3) throws IOException {
    Vector v = vector(name);
    AuthorizationHeader expected = AuthorizationHeader.parse(resource(name + ".authz"));
    String payload =
        s3 ? v.request().single(SigV4.X_AMZ_CONTENT_SHA256) : SigV4.sha256Hex(v.body());
    String canonical = CanonicalRequest.of(v.request(), expected.signedHeaders(), payload, s3);
    String signature =
        SigV4.signature(secret, v.request().single(SigV4.X_AMZ_DATE), expected.scope(), canonical);
    return new AuthorizationHeader(
            expected.accessKeyId(), expected.scope(), expected.signedHeaders(), signature)
        .format();
  }

  @Test
  void canonicalRequestAndStringToSignAreTheSuites() throws IOException {
    Vector v = vector("get-vanilla-query-order-key");
    String canonical =
        CanonicalRequest.of(
            v.request(), List.of("host", "x-amz-date"), SigV4.sha256Hex(v.body()), false);
    assertThat(canonical).isEqualTo(resource("get-vanilla-query-order-key.creq"));
    assertThat(
            SigV4.stringToSign(
                "20150830T123600Z", "20150830/us-east-1/service/aws4_request", canonical))
        .isEqualTo(resource("get-vanilla-query-order-key.sts"));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "get-vanilla-query-order-key",
        "get-vanilla-utf8-query",
        "get-header-value-trim",
        "post-header-key-sort",
        "post-x-www-form-urlencoded",
        "post-sts-header-before"
      })
  void theSignatureIsTheSuites(String name) throws IOException {
    assertThat(sign(name, SUITE_SECRET, false)).isEqualTo(resource(name + ".authz"));
  }

  @Test
  void theS3GetObjectExampleSignsAsDocumented() throws IOException {
    assertThat(sign("s3-get-object", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", true))
        .isEqualTo(resource("s3-get-object.authz"));
  }
}
