package dev.capgate.sidecar.policy;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static dev.capgate.sidecar.policy.Specs.request;
import static dev.capgate.sidecar.policy.Specs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PolicyRequestTest {
  private static final Policy POLICY =
      Specs.policy(
          rule("github-api")
              .hosts("api.github.com")
              .methods(GET, POST)
              .paths("/repos/acme/repo-a", "/repos/acme/repo-a/**")
              .credential("github"),
          rule("github-users")
              .hosts("api.github.com")
              .methods(GET)
              .paths("/users/*/repos", "/orgs/**/members"),
          rule("github-meta")
              .hosts("api.github.com")
              .paths("/meta/", "/files/%2A", "/caf%C3%A9")
              .credential("other"),
          rule("packages").hosts("pypi.org").passthrough(),
          rule("example").hosts("*.example.com"),
          rule("internal-api").hosts("api.internal").ports(8443).paths("/v1/**"));

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(
            "an allowed path gets the rule's credential",
            "GET",
            "api.github.com",
            443,
            "/repos/acme/repo-a",
            "github-api",
            "github"),
        Arguments.of(
            "** matches zero segments",
            "POST",
            "api.github.com",
            443,
            "/repos/acme/repo-a",
            "github-api",
            "github"),
        Arguments.of(
            "** matches one segment",
            "GET",
            "api.github.com",
            443,
            "/repos/acme/repo-a/pulls",
            "github-api",
            "github"),
        Arguments.of(
            "** matches several segments",
            "GET",
            "api.github.com",
            443,
            "/repos/acme/repo-a/pulls/1/files",
            "github-api",
            "github"),
        Arguments.of(
            "** matches a trailing slash",
            "GET",
            "api.github.com",
            443,
            "/repos/acme/repo-a/",
            "github-api",
            "github"),
        Arguments.of(
            "a sibling repository is denied",
            "GET",
            "api.github.com",
            443,
            "/repos/acme/repo-b",
            null,
            null),
        Arguments.of(
            "a name that only starts the same is denied",
            "GET",
            "api.github.com",
            443,
            "/repos/acme/repo-abc",
            null,
            null),
        Arguments.of(
            "a method outside the rule is denied",
            "DELETE",
            "api.github.com",
            443,
            "/repos/acme/repo-a",
            null,
            null),
        Arguments.of(
            "literal segments are case-sensitive",
            "GET",
            "api.github.com",
            443,
            "/Repos/acme/repo-a",
            null,
            null),
        Arguments.of(
            "* matches one segment",
            "GET",
            "api.github.com",
            443,
            "/users/alice/repos",
            "github-users",
            null),
        Arguments.of(
            "* does not match zero segments",
            "GET",
            "api.github.com",
            443,
            "/users/repos",
            null,
            null),
        Arguments.of(
            "* does not match two segments",
            "GET",
            "api.github.com",
            443,
            "/users/a/b/repos",
            null,
            null),
        Arguments.of(
            "* does not match an empty segment",
            "GET",
            "api.github.com",
            443,
            "/users//repos",
            null,
            null),
        Arguments.of(
            "** in the middle matches zero segments",
            "GET",
            "api.github.com",
            443,
            "/orgs/members",
            "github-users",
            null),
        Arguments.of(
            "** in the middle matches several segments",
            "GET",
            "api.github.com",
            443,
            "/orgs/acme/teams/x/members",
            "github-users",
            null),
        Arguments.of(
            "** in the middle still needs what follows",
            "GET",
            "api.github.com",
            443,
            "/orgs/acme/teams",
            null,
            null),
        Arguments.of(
            "a method the path's rule does not list is denied",
            "POST",
            "api.github.com",
            443,
            "/users/alice/repos",
            null,
            null),
        Arguments.of(
            "absent methods mean any method",
            "PATCH",
            "api.github.com",
            443,
            "/meta/",
            "github-meta",
            "other"),
        Arguments.of(
            "a pattern's trailing slash is a segment of its own",
            "GET",
            "api.github.com",
            443,
            "/meta",
            null,
            null),
        Arguments.of(
            "an escaped * in a pattern is a literal star",
            "GET",
            "api.github.com",
            443,
            "/files/*",
            "github-meta",
            "other"),
        Arguments.of(
            "an escaped * in a pattern is not a wildcard",
            "GET",
            "api.github.com",
            443,
            "/files/x",
            null,
            null),
        Arguments.of(
            "patterns are compared decoded",
            "GET",
            "api.github.com",
            443,
            "/café",
            "github-meta",
            "other"),
        Arguments.of(
            "absent paths mean any path",
            "DELETE",
            "a.example.com",
            443,
            "/anything/at/all",
            "example",
            null),
        Arguments.of(
            "a passthrough rule never allows a decrypted request",
            "GET",
            "pypi.org",
            443,
            "/simple/",
            null,
            null),
        Arguments.of(
            "requests on a port outside the rule are denied",
            "GET",
            "api.internal",
            443,
            "/v1/x",
            null,
            null),
        Arguments.of(
            "requests on the rule's port are allowed",
            "GET",
            "api.internal",
            8443,
            "/v1/x",
            "internal-api",
            null),
        Arguments.of("an unknown host is denied", "GET", "evil.com", 443, "/", null, null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides_requests(
      String description,
      String method,
      String host,
      int port,
      String path,
      String rule,
      String credential) {
    RequestVerdict verdict = POLICY.onRequest(request(method, host, port, path));

    assertThat(verdict.allowed()).isEqualTo(rule != null);
    assertThat(verdict.rule()).isEqualTo(rule);
    assertThat(verdict.credential()).isEqualTo(credential);
    assertThat(verdict.reason()).isNotBlank();
  }

  @Test
  void first_matching_rule_decides_the_credential() {
    Policy policy =
        Specs.policy(
            rule("narrow").hosts("api.github.com").paths("/a/**").credential("github"),
            rule("broad").hosts("api.github.com").credential("other"));

    assertThat(policy.onRequest(request("GET", "api.github.com", 443, "/a/x")).credential())
        .isEqualTo("github");
    assertThat(policy.onRequest(request("GET", "api.github.com", 443, "/b")).credential())
        .isEqualTo("other");
  }

  @Test
  void a_credential_is_never_allowed_over_plaintext_http() {
    RequestVerdict verdict =
        POLICY.onRequest(Specs.plaintextRequest("GET", "api.github.com", 80, "/repos/acme/repo-a"));

    assertThat(verdict.allowed()).isFalse();
    assertThat(verdict.reason()).contains("github-api").contains("plaintext");
  }

  @Test
  void a_later_rule_without_credential_may_allow_the_plaintext_request() {
    Policy policy =
        Specs.policy(
            rule("with-token").hosts("api.github.com").credential("github"),
            rule("anonymous").hosts("api.github.com").methods(GET));

    assertThat(policy.onRequest(Specs.plaintextRequest("GET", "api.github.com", 80, "/x")))
        .isEqualTo(new RequestVerdict(true, "anonymous", List.of(), "allowed by rule 'anonymous'"));
    assertThat(
            policy.onRequest(Specs.plaintextRequest("POST", "api.github.com", 80, "/x")).allowed())
        .isFalse();
  }

  @Test
  void a_rule_with_several_credentials_names_them_all_in_order() {
    Policy policy =
        Policy.compile(
            Specs.SESSION,
            Specs.spec(
                rule("two-headers")
                    .hosts("api.example.com")
                    .credentials("github", "other")
                    .build()));

    RequestVerdict verdict = policy.onRequest(request("GET", "api.example.com", 443, "/"));

    assertThat(verdict.credentials()).containsExactly("github", "other");
    assertThat(verdict.credential()).isEqualTo("github");
  }

  @Test
  void a_rule_with_several_credentials_never_allows_plaintext_http() {
    Policy policy =
        Policy.compile(
            Specs.SESSION,
            Specs.spec(
                rule("two-headers")
                    .hosts("api.example.com")
                    .credentials("github", "other")
                    .build()));

    RequestVerdict verdict =
        policy.onRequest(Specs.plaintextRequest("GET", "api.example.com", 80, "/"));

    assertThat(verdict.allowed()).isFalse();
    assertThat(verdict.reason()).contains("plaintext");
  }

  @Test
  void plaintext_requests_without_credential_are_allowed() {
    assertThat(POLICY.onRequest(Specs.plaintextRequest("GET", "a.example.com", 80, "/")).allowed())
        .isTrue();
  }

  @Test
  void denial_reason_tells_host_denied_from_path_denied() {
    assertThat(POLICY.onRequest(request("GET", "evil.com", 443, "/")).reason())
        .isEqualTo("no egress rule allows evil.com:443");
    assertThat(POLICY.onRequest(request("DELETE", "api.github.com", 443, "/x")).reason())
        .isEqualTo("no egress rule for api.github.com allows DELETE /x");
  }

  @Test
  void dot_segments_are_resolved_before_matching() {
    NormalizedRequest escape =
        RequestNormalizer.normalize(
            new RawRequest(
                "GET",
                "/repos/acme/repo-a/../repo-b",
                null,
                java.util.List.of("api.github.com"),
                null,
                null,
                false),
            "api.github.com",
            443);
    NormalizedRequest back =
        RequestNormalizer.normalize(
            new RawRequest(
                "GET",
                "/repos/acme/repo-b/%2e%2e/repo-a/pulls",
                null,
                java.util.List.of("api.github.com"),
                null,
                null,
                false),
            "api.github.com",
            443);

    assertThat(POLICY.onRequest(escape).allowed()).isFalse();
    assertThat(POLICY.onRequest(back).allowed()).isTrue();
    assertThat(back.target()).isEqualTo("/repos/acme/repo-a/pulls");
  }

  @Test
  void many_double_stars_on_a_long_path_do_not_backtrack_forever() {
    Policy policy =
        Specs.policy(rule("deep").hosts("api.github.com").paths("/**/a/**/b/**/c/**/d"));
    String longPath = "/x".repeat(5_000) + "/a/b/c/e";

    // A guard against catastrophic backtracking (which would hang), not a speed goal.
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
        java.time.Duration.ofSeconds(30),
        () ->
            assertThat(policy.onRequest(request("GET", "api.github.com", 443, longPath)).allowed())
                .isFalse());
  }
}
