package dev.capgate.sidecar.policy;

import static dev.capgate.sidecar.policy.Specs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Rules on S3 operations: action, bucket and key prefix, path-style and virtual-hosted. */
class S3PolicyTest {
  private static final Policy POLICY =
      Specs.policy(
          rule("reports")
              .hosts("s3.us-east-1.amazonaws.com", "*.s3.us-east-1.amazonaws.com", "s3.test")
              .ports(443, 9443)
              .s3(
                  List.of(
                      "GetObject",
                      "HeadObject",
                      "PutObject",
                      "ListBucket",
                      "CreateMultipartUpload",
                      "UploadPart",
                      "CompleteMultipartUpload"),
                  List.of("bucket-a", "my.dotted.bucket"),
                  List.of("reports/", "")));

  private static final Policy READ_REPORTS =
      Specs.policy(
          rule("read-reports")
              .hosts("s3.test")
              .s3(List.of("GetObject", "ListBucket"), List.of("bucket-a"), List.of("reports/")));

  static NormalizedRequest request(String method, String host, String path, String query) {
    return new NormalizedRequest(
        method, host, 443, path, query == null ? path : path + "?" + query, query, true);
  }

  static Stream<Arguments> operations() {
    return Stream.of(
        Arguments.of(
            "GET",
            "s3.test",
            "/bucket-a/reports/q4.csv",
            null,
            "GetObject",
            "bucket-a",
            "reports/q4.csv"),
        Arguments.of(
            "GET",
            "bucket-a.s3.us-east-1.amazonaws.com",
            "/reports/q4.csv",
            "x-id=GetObject",
            "GetObject",
            "bucket-a",
            "reports/q4.csv"),
        Arguments.of(
            "GET",
            "my.dotted.bucket.s3.us-east-1.amazonaws.com",
            "/k",
            null,
            "GetObject",
            "my.dotted.bucket",
            "k"),
        Arguments.of(
            "GET",
            "s3.test",
            "/bucket-a",
            "list-type=2&prefix=reports%2F",
            "ListBucket",
            "bucket-a",
            null),
        Arguments.of("GET", "s3.test", "/", null, "ListBuckets", null, null),
        Arguments.of(
            "PUT",
            "s3.test",
            "/bucket-a/k",
            "partNumber=1&uploadId=u",
            "UploadPart",
            "bucket-a",
            "k"),
        Arguments.of(
            "POST", "s3.test", "/bucket-a/k", "uploads", "CreateMultipartUpload", "bucket-a", "k"),
        Arguments.of(
            "POST",
            "s3.test",
            "/bucket-a/k",
            "uploadId=u",
            "CompleteMultipartUpload",
            "bucket-a",
            "k"),
        Arguments.of(
            "DELETE",
            "s3.test",
            "/bucket-a/k",
            "uploadId=u",
            "AbortMultipartUpload",
            "bucket-a",
            "k"),
        Arguments.of("DELETE", "s3.test", "/bucket-a/k", null, "DeleteObject", "bucket-a", "k"),
        Arguments.of("POST", "s3.test", "/bucket-a", "delete", "DeleteObjects", "bucket-a", null),
        Arguments.of("PUT", "s3.test", "/bucket-a", null, "CreateBucket", "bucket-a", null),
        Arguments.of("PUT", "s3.test", "/bucket-a", "policy", "PutBucketPolicy", "bucket-a", null),
        Arguments.of(
            "GET", "s3.test", "/bucket-a", "lifecycle", "GetBucketOther", "bucket-a", null));
  }

  @ParameterizedTest(name = "{0} {1}{2}?{3} is {4}")
  @MethodSource("operations")
  void theOperationIsDerivedFromMethodPathQueryAndHost(
      String method,
      String host,
      String path,
      String query,
      String action,
      String bucket,
      String key) {
    S3Request op = S3Request.of(request(method, host, path, query));
    assertThat(op.action()).isEqualTo(action);
    assertThat(op.bucket()).isEqualTo(bucket);
    assertThat(op.key()).isEqualTo(key);
  }

  static Stream<Arguments> decisions() {
    return Stream.of(
        Arguments.of(POLICY, "GET", "s3.test", "/bucket-a/reports/q4.csv", null, true),
        Arguments.of(POLICY, "GET", "bucket-a.s3.us-east-1.amazonaws.com", "/x", null, true),
        Arguments.of(POLICY, "GET", "bucket-b.s3.us-east-1.amazonaws.com", "/x", null, false),
        Arguments.of(POLICY, "GET", "s3.test", "/bucket-b/x", null, false),
        Arguments.of(POLICY, "DELETE", "s3.test", "/bucket-a/x", null, false),
        Arguments.of(POLICY, "POST", "s3.test", "/bucket-a", "delete", false),
        Arguments.of(POLICY, "PUT", "s3.test", "/bucket-a/x", "uploadId=u&partNumber=2", true),
        Arguments.of(POLICY, "GET", "s3.test", "/", null, false),
        Arguments.of(POLICY, "PUT", "s3.test", "/bucket-a", "policy", false),
        Arguments.of(READ_REPORTS, "GET", "s3.test", "/bucket-a/reports/q4.csv", null, true),
        Arguments.of(READ_REPORTS, "GET", "s3.test", "/bucket-a/secrets/k", null, false),
        Arguments.of(
            READ_REPORTS, "GET", "s3.test", "/bucket-a", "list-type=2&prefix=reports%2F2026", true),
        Arguments.of(READ_REPORTS, "GET", "s3.test", "/bucket-a", "list-type=2", false),
        Arguments.of(READ_REPORTS, "PUT", "s3.test", "/bucket-a/reports/q4.csv", null, false));
  }

  @ParameterizedTest(name = "{1} {2}{3}?{4}: allowed {5}")
  @MethodSource("decisions")
  void rulesAllowOnlyTheirOperations(
      Policy policy, String method, String host, String path, String query, boolean allowed) {
    assertThat(policy.onRequest(request(method, host, path, query)).allowed()).isEqualTo(allowed);
  }

  @org.junit.jupiter.api.Test
  void aCopySourceIsReadAccessJudgedByTheSameRule() {
    assertThat(READ_REPORTS.allowsS3CopySource("read-reports", "bucket-a/reports/q4.csv")).isTrue();
    assertThat(READ_REPORTS.allowsS3CopySource("read-reports", "/bucket-a/reports/q%34.csv"))
        .isTrue();
    assertThat(READ_REPORTS.allowsS3CopySource("read-reports", "bucket-b/reports/q4.csv"))
        .isFalse();
    assertThat(READ_REPORTS.allowsS3CopySource("read-reports", "bucket-a/secrets/k?versionId=1"))
        .isFalse();
    assertThat(READ_REPORTS.allowsS3CopySource("read-reports", "bucket-a")).isFalse();
    assertThat(READ_REPORTS.allowsS3CopySource("no-such-rule", "bucket-a/reports/x")).isFalse();
    // A rule without s3 operations judges no bucket.
    assertThat(Specs.policy(rule("any").hosts("s3.test")).allowsS3CopySource("any", "bucket-b/k"))
        .isTrue();
  }
}
