package dev.capgate.sidecar.policy;

import static dev.capgate.sidecar.policy.Specs.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.v1alpha1.AgentSessionSpec;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyCompileTest {
  private static final Policy POLICY =
      Specs.policy(
          rule("github-api")
              .hosts("api.github.com", "*.githubusercontent.com")
              .credential("github"),
          rule("github-again").hosts("api.github.com"),
          rule("packages").hosts("pypi.org").passthrough(),
          rule("example").hosts("*.example.com"),
          rule("database").cidrs("10.0.0.0/8").ports(5432));

  @Test
  void an_invalid_spec_is_refused_with_its_violations() {
    AgentSessionSpec spec =
        new AgentSessionSpec("alice", "Not A Label", null, null, null, null, null, List.of());

    assertThatThrownBy(() -> Policy.compile(Specs.SESSION, spec))
        .isInstanceOfSatisfying(
            InvalidPolicyException.class,
            e -> {
              assertThat(e.violations())
                  .extracting(v -> v.field())
                  .contains("spec.agent", "spec.egress");
              assertThat(e.getMessage()).contains("spec.agent");
            });
  }

  @Test
  void a_missing_spec_is_refused() {
    assertThatThrownBy(() -> Policy.compile(Specs.SESSION, null))
        .isInstanceOf(InvalidPolicyException.class);
  }

  @Test
  void a_path_pattern_with_broken_percent_encoding_is_refused() {
    assertThatThrownBy(
            () -> Specs.policy(rule("bad").hosts("api.github.com").paths("/ok", "/a%zz")))
        .isInstanceOfSatisfying(
            InvalidPolicyException.class,
            e ->
                assertThat(e.violations())
                    .singleElement()
                    .satisfies(v -> assertThat(v.field()).isEqualTo("spec.egress[0]")));
  }

  @Test
  void a_path_pattern_with_an_escaped_slash_is_refused() {
    assertThatThrownBy(() -> Specs.policy(rule("bad").hosts("api.github.com").paths("/a%2Fb")))
        .isInstanceOf(InvalidPolicyException.class);
  }

  @Test
  void intercepted_host_patterns_are_the_intercept_rules_hosts_once_each_in_order() {
    assertThat(POLICY.interceptedHostPatterns())
        .containsExactly("api.github.com", "*.githubusercontent.com", "*.example.com");
  }

  @Test
  void credentials_are_found_by_name() {
    assertThat(POLICY.credential("github"))
        .hasValueSatisfying(c -> assertThat(c.name()).isEqualTo("github"));
    assertThat(POLICY.credential("nope")).isEmpty();
    assertThat(POLICY.credential(null)).isEmpty();
  }

  @Test
  void the_session_is_kept() {
    assertThat(POLICY.session()).isEqualTo(Specs.SESSION);
  }

  @ParameterizedTest(name = "DNS name ''{0}'' allowed: {1}")
  @CsvSource(
      nullValues = "NULL",
      value = {
        "api.github.com, true",
        "API.GitHub.com., true",
        "raw.githubusercontent.com, true",
        "a.b.example.com, true",
        "pypi.org, true",
        "example.com, false",
        "github.com, false",
        "evil.com, false",
        "api.github.com.evil.com, false",
        "'', false",
        "., false",
        "NULL, false",
        "api..github.com, false"
      })
  void dns_names_are_allowed_when_a_host_rule_allows_them(String name, boolean allowed) {
    assertThat(POLICY.allowsDnsName(name)).isEqualTo(allowed);
  }
}
