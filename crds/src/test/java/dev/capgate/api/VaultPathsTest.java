package dev.capgate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.VaultPaths;
import io.fabric8.kubernetes.client.utils.Serialization;
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
        Serialization.unmarshal(
                """
        apiVersion: capgate.dev/v1alpha1
        kind: AgentSession
        metadata: {name: fix-issue-42}
        spec:
          user: alice@example.com
          agent: coding-agent
          vault: {role: capgate-agent}
          credentials:
          - name: github
            vault: {path: "secret/data/github/{{user}}", field: token}
            inject: {type: bearer}
          - name: db-user
            vault: {path: "database/creds/{{agent}}", field: username, engine: dynamic}
            inject: {type: header, header: X-User}
          - name: db-password
            vault: {path: "database/creds/{{agent}}", field: password, engine: dynamic}
            inject: {type: header, header: X-Password}
          - name: per-session
            vault: {path: "aws/creds/{{namespace}}-{{session}}", field: access_key, engine: dynamic}
            inject: {type: bearer}
          - name: unusable
            vault: {path: "database/creds/{{project}}", field: password, engine: dynamic}
            inject: {type: bearer}
          - name: id
            vault: {path: "identity/oidc/token/api", engine: identity-token}
            inject: {type: bearer}
          egress:
          - {name: api, hosts: [api.example.com]}
        """,
                AgentSession.class)
            .getSpec();

    assertThat(VaultPaths.dynamicPaths(spec, "agents", "fix-issue-42"))
        .containsExactly("database/creds/coding-agent", "aws/creds/agents-fix-issue-42");
    assertThat(VaultPaths.dynamicPaths(null, "agents", "fix-issue-42")).isEmpty();
  }
}
