package dev.capgate.api;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.dynamic;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.identityToken;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.VaultPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The same cases as the sidecar's VaultPathTemplateTest: both must resolve paths identically. */
class VaultPathsTest {
  private static String render(String template, String user) {
    return VaultPaths.render(template, user, "coding-agent", "fix-issue-42", "agents");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "secret/data/github/{{user}}, secret/data/github/alice@example.com",
    "secret/data/{{namespace}}/{{session}}/{{agent}}, secret/data/agents/fix-issue-42/coding-agent",
    "secret/data/{{user}}/{{user}}, secret/data/alice@example.com/alice@example.com",
    "secret/data/static, secret/data/static"
  })
  void fillsThePlaceholders(String template, String path) {
    assertThat(render(template, "alice@example.com")).isEqualTo(path);
  }

  @ParameterizedTest(name = "user ''{0}'' is refused")
  @ValueSource(
      strings = {
        "../admin",
        "..",
        ".",
        "a/b",
        "alice/../../admin",
        "a..b",
        "alice bob",
        "alice%2fbob",
        "alice{{agent}}",
        "",
        "al\nice",
        "alice?x",
        "alice#x",
        "\u00e9lise"
      })
  void refusesValuesThatAreNotOneSafeSegment(String value) {
    assertThatThrownBy(() -> render("secret/data/github/{{user}}", value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("{{user}}");
  }

  @Test
  void refusesAMissingValue() {
    assertThatThrownBy(() -> render("secret/data/github/{{user}}", null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "template ''{0}'' is refused")
  @ValueSource(
      strings = {
        "secret/data/{{project}}",
        "secret/data/{{ user }}",
        "secret/../sys/raw",
        "secret/./data",
        "secret//data",
        "/secret/data",
        "secret/data/"
      })
  void refusesUnknownPlaceholdersAndDotOrEmptySegments(String template) {
    assertThatThrownBy(() -> render(template, "alice"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aValueIsUsedOnlyWhereItsPlaceholderIs() {
    assertThat(VaultPaths.render("secret/data/{{user}}", "alice", "../x", "s", "agents"))
        .isEqualTo("secret/data/alice");
  }

  @Test
  void dynamicPathsAreTheResolvedPathsOfDynamicCredentialsOnly() {
    AgentSessionSpec spec =
        AgentSessionBuilder.specOnly()
            .user("alice@example.com")
            .agent("coding-agent")
            .vaultRole("capgate-agent")
            .credential(
                kv2("github", "secret/data/github/{{user}}", "token").bearer(),
                dynamic("db-user", "database/creds/{{agent}}", "username").header("X-User"),
                dynamic("db-password", "database/creds/{{agent}}", "password").header("X-Password"),
                dynamic("per-session", "aws/creds/{{namespace}}-{{session}}", "access_key")
                    .bearer(),
                dynamic("unusable", "database/creds/{{project}}", "password").bearer(),
                identityToken("id", "identity/oidc/token/api").bearer(),
                AgentSessionBuilder.awsSigV4(
                    "s3",
                    new dev.capgate.api.v1alpha1.AwsSigV4Credential(
                        new dev.capgate.api.v1alpha1.AwsVaultKeys(
                            "aws/sts/{{agent}}",
                            dev.capgate.api.v1alpha1.VaultEngine.DYNAMIC,
                            null,
                            null,
                            null),
                        "us-east-1",
                        null)))
            .egress(rule("api").hosts("api.example.com"))
            .spec();

    assertThat(VaultPaths.dynamicPaths(spec, "agents", "fix-issue-42"))
        .containsExactly(
            "database/creds/coding-agent", "aws/creds/agents-fix-issue-42", "aws/sts/coding-agent");
    assertThat(VaultPaths.dynamicPaths(null, "agents", "fix-issue-42")).isEmpty();
  }
}
