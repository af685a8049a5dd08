package dev.capgate.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.AgentSessionValidator;
import dev.capgate.api.v1alpha1.Violation;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AgentSessionValidatorTest {
  static final Path EXAMPLE = Path.of("examples/fix-issue-42.yaml");

  static String example() throws IOException {
    return Files.readString(EXAMPLE);
  }

  static AgentSessionSpec spec(String yaml) {
    return Serialization.unmarshal(yaml, AgentSession.class).getSpec();
  }

  @Test
  void theExampleSessionIsValid() throws IOException {
    assertThat(AgentSessionValidator.validate(spec(example()))).isEmpty();
  }

  /** The example's first credential as a GitHub App (the YAML a user writes). */
  static final String VAULT_SOURCE =
      "vault: {path: \"secret/data/github/{{user}}\", field: token}\n";

  static final String GITHUB_APP_SOURCE =
      """
      githubApp:
              appId: 123456
              installationId: 7890
              privateKey: {path: "secret/data/github-app/acme"}
              repositories: [repo-a]
              permissions: {contents: read, pull_requests: write}
      """;

  /** An OAuth credential that refreshes a per-user token (the YAML a user writes). */
  static final String OAUTH_SOURCE =
      "oauth: {tokenUrl: \"https://sso.example.com/realms/acme/protocol/openid-connect/token\","
          + " clientId: capgate, refreshToken: {path: \"secret/data/oauth/{{user}}\"}}\n";

  /** The example with its first credential's Vault source replaced by {@link #OAUTH_SOURCE}. */
  static UnaryOperator<String> withOAuth(UnaryOperator<String> oauthEdit) {
    return edit(
        "      " + VAULT_SOURCE + "      inject: {type: bearer}",
        "      " + oauthEdit.apply(OAUTH_SOURCE) + "      inject: {type: bearer}");
  }

  /** The example with its first credential minted by a GitHub App instead of read from Vault. */
  static UnaryOperator<String> withGitHubApp(UnaryOperator<String> appEdit) {
    return editFirst(VAULT_SOURCE, appEdit.apply(GITHUB_APP_SOURCE));
  }

  /** The first occurrence only: the example's two credentials read the same Vault source. */
  static UnaryOperator<String> editFirst(String from, String to) {
    return yaml -> {
      assertThat(yaml).as("test edit anchor").contains(from);
      int at = yaml.indexOf(from);
      return yaml.substring(0, at) + to + yaml.substring(at + from.length());
    };
  }

  @Test
  void aLearnSessionOfAtMost24hIsValid() throws IOException {
    AgentSessionSpec learn = spec(example().replace("ttl: 2h", "ttl: 24h\n  mode: Audit"));
    assertThat(AgentSessionValidator.validate(learn)).isEmpty();
    assertThat(learn.audits()).isTrue();
    assertThat(spec(example()).audits()).as("Enforce by default").isFalse();
  }

  @Test
  void aGitHubAppCredentialIsValid() throws IOException {
    AgentSessionSpec spec = spec(withGitHubApp(app -> app).apply(example()));
    assertThat(AgentSessionValidator.validate(spec)).isEmpty();
    assertThat(spec.credentials().get(1).vault())
        .as("only the first credential changed")
        .isNotNull();
    var app = spec.credentials().getFirst().githubApp();
    assertThat(app.appId()).isEqualTo(123456L);
    assertThat(app.apiUrlOrDefault()).isEqualTo("https://api.github.com");
    assertThat(app.privateKeyFieldOrDefault()).isEqualTo("private_key");
    assertThat(app.repositoriesOrEmpty()).containsExactly("repo-a");
    assertThat(app.permissionsOrEmpty())
        .containsEntry("contents", dev.capgate.api.v1alpha1.GitHubPermissionLevel.READ)
        .containsEntry("pull_requests", dev.capgate.api.v1alpha1.GitHubPermissionLevel.WRITE);
  }

  @Test
  void limitsAreCheckedLikeTheCrdChecksThem() throws IOException {
    UnaryOperator<String> limited =
        edit(
            "      credential: github\n",
            "      credential: github\n      limits: {requestsPerSecond: 10, burst: 5}\n");
    assertThat(AgentSessionValidator.validate(spec(limited.apply(example()))))
        .extracting(Violation::field)
        .containsExactly("spec.egress[0].limits.burst");
    UnaryOperator<String> passthrough =
        edit("tls: passthrough\n", "tls: passthrough\n      limits: {maxRequests: 0}\n");
    assertThat(AgentSessionValidator.validate(spec(passthrough.apply(example()))))
        .extracting(Violation::field)
        .containsExactly("spec.egress[2].limits", "spec.egress[2].limits.maxRequests");
    UnaryOperator<String> session =
        edit("  egress:\n", "  limits: {maxConcurrent: 3, maxBytes: 1048576}\n  egress:\n");
    AgentSessionSpec valid = spec(session.apply(example()));
    assertThat(AgentSessionValidator.validate(valid)).isEmpty();
    assertThat(valid.limits().maxConcurrent()).isEqualTo(3);
  }

  @Test
  void aMissingSpecIsInvalid() {
    assertThat(AgentSessionValidator.validate(null))
        .extracting(Violation::field)
        .containsExactly("spec");
  }

  @Test
  void theApprovalBlockIsCheckedAsItsCelRulesDo() {
    java.util.function.Function<
            dev.capgate.api.v1alpha1.AgentSessionBuilder.RuleBuilder, List<Violation>>
        check =
            rule ->
                AgentSessionValidator.validate(
                    dev.capgate.api.v1alpha1.AgentSessionBuilder.session("s")
                        .user("alice@example.com")
                        .agent("coding-agent")
                        .egress(rule)
                        .spec());
    var approval =
        dev.capgate.api.v1alpha1.AgentSessionBuilder.rule("issues").hosts("api.github.com");
    assertThat(
            check.apply(approval.approval(new dev.capgate.api.v1alpha1.Approval(true, "5m", null))))
        .isEmpty();
    assertThat(
            check.apply(approval.approval(new dev.capgate.api.v1alpha1.Approval(true, "2h", null))))
        .extracting(Violation::field)
        .containsExactly("spec.egress[0].approval.timeout");
    assertThat(
            check.apply(
                dev.capgate.api.v1alpha1.AgentSessionBuilder.rule("pkgs")
                    .hosts("pypi.org")
                    .passthrough()
                    .approval(new dev.capgate.api.v1alpha1.Approval(true, null, null))))
        .extracting(Violation::field)
        .containsExactly("spec.egress[0].approval");
  }

  /**
   * Each case edits the valid example into one mistake and names the field that must be blamed.
   * Text edits of the example file, not AgentSessionBuilder: AgentSessionApiIT feeds the same
   * edited YAML to the API server through kubectl, and some mistakes cannot be held by the typed
   * model.
   */
  static Stream<Arguments> mistakes() {
    return Stream.of(
        Arguments.of(
            "a rule referencing an unknown credential",
            edit("credential: github\n", "credential: gitlab\n"),
            "spec.egress[0].credential"),
        Arguments.of(
            "an upper-case host",
            edit("[api.github.com]", "[API.github.com]"),
            "spec.egress[0].hosts"),
        Arguments.of(
            "a wildcard in the middle of a host",
            edit("[api.github.com]", "[api.*.com]"),
            "spec.egress[0].hosts"),
        Arguments.of(
            "a host with a scheme",
            edit("[api.github.com]", "[\"https://api.github.com\"]"),
            "spec.egress[0].hosts"),
        Arguments.of("a ttl without unit", edit("ttl: 2h", "ttl: \"120\""), "spec.ttl"),
        Arguments.of("a ttl of days", edit("ttl: 2h", "ttl: 3d"), "spec.ttl"),
        Arguments.of("a ttl over 720h", edit("ttl: 2h", "ttl: 721h"), "spec.ttl"),
        Arguments.of("a zero ttl", edit("ttl: 2h", "ttl: 0s"), "spec.ttl"),
        Arguments.of("Audit mode without a ttl", edit("ttl: 2h", "mode: Audit"), "spec.ttl"),
        Arguments.of(
            "Audit mode with a ttl over 24h",
            edit("ttl: 2h", "ttl: 25h\n  mode: Audit"),
            "spec.ttl"),
        Arguments.of("no egress rules", truncateFrom("  egress:", "  egress: []\n"), "spec.egress"),
        Arguments.of(
            "credentials without vault",
            edit("  vault:\n    role: capgate-agent\n", ""),
            "spec.vault.role"),
        Arguments.of(
            "a passthrough rule with a credential",
            edit("      tls: passthrough\n", "      tls: passthrough\n      credential: github\n"),
            "spec.egress[2].tls"),
        Arguments.of(
            "a path with a dot-segment",
            edit("\"/repos/acme/repo-a/**\"", "\"/repos/acme/../**\""),
            "spec.egress[0].paths"),
        Arguments.of(
            "a path with a partial wildcard",
            edit("\"/repos/acme/repo-a/**\"", "\"/repos/acme/repo-*\""),
            "spec.egress[0].paths"),
        Arguments.of(
            "a relative path",
            edit("\"/repos/acme/repo-a\",", "\"repos/acme/repo-a\","),
            "spec.egress[0].paths"),
        Arguments.of(
            "a duplicate rule name",
            edit("- name: packages", "- name: github-api"),
            "spec.egress[2].name"),
        Arguments.of(
            "a duplicate credential name",
            edit("- name: github-git", "- name: github"),
            "spec.credentials[1].name"),
        Arguments.of(
            "a header injection without header name",
            edit("inject: {type: bearer}", "inject: {type: header}"),
            "spec.credentials[0].inject.header"),
        Arguments.of(
            "a header template without {{value}}",
            edit(
                "inject: {type: bearer}",
                "inject: {type: header, header: X-Key, template: \"Token\"}"),
            "spec.credentials[0].inject.template"),
        Arguments.of(
            "a kv2 secret without field",
            edit("field: token}\n      inject: {type: bearer}", "}\n      inject: {type: bearer}"),
            "spec.credentials[0].vault.field"),
        Arguments.of(
            "a rule with hosts and cidrs",
            edit("hosts: [github.com]", "hosts: [github.com]\n      cidrs: [10.0.0.1/32]"),
            "spec.egress[1]"),
        Arguments.of(
            "a cidr rule without ports",
            edit(
                "hosts: [pypi.org, files.pythonhosted.org]\n      tls: passthrough",
                "cidrs: [10.1.2.3/32]"),
            "spec.egress[2].ports"),
        Arguments.of(
            "a malformed cidr",
            edit(
                "hosts: [pypi.org, files.pythonhosted.org]\n      tls: passthrough",
                "cidrs: [10.1.2.300/32]\n      ports: [5432]"),
            "spec.egress[2].cidrs"),
        Arguments.of(
            "a cidr prefix too long",
            edit(
                "hosts: [pypi.org, files.pythonhosted.org]\n      tls: passthrough",
                "cidrs: [10.1.2.3/33]\n      ports: [5432]"),
            "spec.egress[2].cidrs"),
        Arguments.of(
            "a port out of range",
            edit("tls: passthrough", "tls: passthrough\n      ports: [70000]"),
            "spec.egress[2].ports"),
        Arguments.of(
            "a rule naming credential and credentials",
            edit("credential: github\n", "credential: github\n      credentials: [github]\n"),
            "spec.egress[0].credentials"),
        Arguments.of(
            "a rule with an unknown credential in credentials",
            edit("credential: github\n", "credentials: [github, gitlab]\n"),
            "spec.egress[0].credentials"),
        Arguments.of(
            "a credential with both vault and githubApp",
            editFirst(VAULT_SOURCE, VAULT_SOURCE + "      " + GITHUB_APP_SOURCE.strip() + "\n"),
            "spec.credentials[0]"),
        Arguments.of(
            "a credential with neither vault nor githubApp",
            editFirst("      " + VAULT_SOURCE, ""),
            "spec.credentials[0]"),
        Arguments.of(
            "a GitHub App API over plain http",
            withGitHubApp(
                app ->
                    app.replace(
                        "appId: 123456", "appId: 123456\n        apiUrl: http://ghe.example")),
            "spec.credentials[0].githubApp.apiUrl"),
        Arguments.of(
            "a GitHub App repository with its owner",
            withGitHubApp(app -> app.replace("[repo-a]", "[acme/repo-a]")),
            "spec.credentials[0].githubApp.repositories[0]"),
        Arguments.of(
            "a GitHub App permission name that is not one",
            withGitHubApp(app -> app.replace("{contents: read", "{Contents: read")),
            "spec.credentials[0].githubApp.permissions"),
        Arguments.of(
            "a GitHub App without installation",
            withGitHubApp(app -> app.replace("installationId: 7890", "installationId: 0")),
            "spec.credentials[0].githubApp.installationId"),
        Arguments.of(
            "a credential with both vault and oauth",
            edit(
                "field: token}\n      inject: {type: bearer}",
                "field: token}\n      " + OAUTH_SOURCE + "      inject: {type: bearer}"),
            "spec.credentials[0]"),
        Arguments.of(
            "a credential with neither vault nor oauth",
            edit(
                "      vault: {path: \"secret/data/github/{{user}}\", field: token}\n      inject: {type: bearer}",
                "      inject: {type: bearer}"),
            "spec.credentials[0]"),
        Arguments.of(
            "an oauth token endpoint over http",
            withOAuth(oauth -> oauth.replace("https://sso", "http://sso")),
            "spec.credentials[0].oauth.tokenUrl"),
        Arguments.of(
            "an oauth credential with refreshToken and tokenExchange",
            withOAuth(
                oauth ->
                    oauth.replace("}}\n", "}, tokenExchange: {subjectCredential: github-git}}\n")),
            "spec.credentials[0].oauth"),
        Arguments.of(
            "a token exchange whose subject is not declared",
            withOAuth(
                oauth ->
                    oauth.replace(
                        "refreshToken: {path: \"secret/data/oauth/{{user}}\"}",
                        "tokenExchange: {subjectCredential: nobody, audience: [api]}")),
            "spec.credentials[0].oauth.tokenExchange.subjectCredential"),
        Arguments.of(
            "a credential with both vault and awsSigV4",
            edit(
                "      inject: {type: bearer}\n",
                "      inject: {type: bearer}\n"
                    + "      awsSigV4: {vault: {path: secret/data/aws}, region: us-east-1}\n"),
            "spec.credentials[0]"),
        Arguments.of(
            "an awsSigV4 credential with inject",
            edit("  egress:\n", AWS + "      inject: {type: bearer}\n  egress:\n"),
            "spec.credentials[2].inject"),
        Arguments.of(
            "an awsSigV4 credential with a placeholder",
            edit("  egress:\n", AWS + "      placeholder: {env: AWS_KEY}\n  egress:\n"),
            "spec.credentials[2].placeholder"),
        Arguments.of(
            "two awsSigV4 credentials",
            edit("  egress:\n", AWS + AWS.replace("name: s3", "name: s3b") + "  egress:\n"),
            "spec.credentials[3].awsSigV4"),
        Arguments.of(
            "an awsSigV4 credential reading an identity token",
            edit(
                "  egress:\n",
                AWS.replace("aws/{{user}}\"", "aws/{{user}}\", engine: identity-token")
                    + "  egress:\n"),
            "spec.credentials[2].awsSigV4.vault.engine"),
        Arguments.of(
            "an awsSigV4 credential with a bad region",
            edit("  egress:\n", AWS.replace("us-east-1", "US_EAST") + "  egress:\n"),
            "spec.credentials[2].awsSigV4.region"),
        Arguments.of(
            "a placeholder variable an awsSigV4 credential sets",
            edit(
                "      inject: {type: basic, username: x-access-token}\n  egress:\n",
                "      inject: {type: basic, username: x-access-token}\n"
                    + "      placeholder: {env: AWS_ACCESS_KEY_ID}\n"
                    + AWS
                    + "  egress:\n"),
            "spec.credentials[2].awsSigV4"),
        Arguments.of(
            "an unknown S3 action",
            edit(
                "      credential: github\n",
                "      credential: github\n      s3: {actions: [GetObject, Teleport]}\n"),
            "spec.egress[0].s3.actions"),
        Arguments.of(
            "s3 operations on a passthrough rule",
            edit("      tls: passthrough\n", "      tls: passthrough\n      s3: {buckets: [b]}\n"),
            "spec.egress[2].s3"),
        Arguments.of(
            "a git ref pattern outside refs/",
            edit("refs: [\"refs/heads/agent/**\"]", "refs: [\"heads/agent/**\"]"),
            "spec.egress[3].git.refs"),
        Arguments.of(
            "a git ref pattern with a partial wildcard",
            edit("refs: [\"refs/heads/agent/**\"]", "refs: [\"refs/heads/agent-*\"]"),
            "spec.egress[3].git.refs"),
        Arguments.of(
            "git on a passthrough rule",
            edit("tls: passthrough\n", "tls: passthrough\n      git: {refs: [refs/heads/x]}\n"),
            "spec.egress[2].git"),
        Arguments.of(
            "mcp on a passthrough rule",
            edit(
                "tls: passthrough\n",
                "tls: passthrough\n      mcp: {tools: [{name: create_issue}]}\n"),
            "spec.egress[2].mcp"),
        Arguments.of(
            "an mcp tool named twice",
            edit("      credential: github\n", "      credential: github\n" + MCP_TWICE),
            "spec.egress[0].mcp.tools[1].name"),
        Arguments.of(
            "an mcp argument condition with two matchers",
            edit(
                "      credential: github\n",
                "      credential: github\n"
                    + "      mcp: {tools: [{name: t, arguments: [{pointer: /a, equals: x, glob: \"x*\"}]}]}\n"),
            "spec.egress[0].mcp.tools[0].arguments[0]"),
        Arguments.of(
            "an mcp argument regex that does not compile",
            edit(
                "      credential: github\n",
                "      credential: github\n"
                    + "      mcp: {tools: [{name: t, arguments: [{pointer: /a, regex: \"[a-\"}]}]}\n"),
            "spec.egress[0].mcp.tools[0].arguments[0].regex"),
        Arguments.of(
            "an mcp argument pointer that is not a JSON pointer",
            edit(
                "      credential: github\n",
                "      credential: github\n"
                    + "      mcp: {tools: [{name: t, arguments: [{pointer: repo, equals: x}]}]}\n"),
            "spec.egress[0].mcp.tools[0].arguments[0].pointer"),
        Arguments.of(
            "grpc methods on a passthrough rule",
            edit(
                "tls: passthrough\n",
                "tls: passthrough\n      grpc: {methods: [pkg.Service/Method]}\n"),
            "spec.egress[2].grpc"),
        Arguments.of(
            "a grpc method that is not package.Service/Method",
            edit(
                "      credential: github\n",
                "      credential: github\n      grpc: {methods: [\"pkg.Service/Get*\"]}\n"),
            "spec.egress[0].grpc.methods[0]"),
        Arguments.of(
            "an agent name with capitals",
            edit("agent: coding-agent", "agent: Coding-Agent"),
            "spec.agent"));
  }

  static final String MCP_TWICE =
      "      mcp: {tools: [{name: create_issue}, {name: create_issue}]}\n";

  @Test
  void anMcpRuleWithArgumentConditionsIsValid() throws IOException {
    String yaml =
        edit(
                "      credential: github\n",
                "      credential: github\n"
                    + "      mcp:\n"
                    + "        endpoint: /mcp\n"
                    + "        tools:\n"
                    + "          - name: create_issue\n"
                    + "            arguments:\n"
                    + "              - {pointer: /repo, equals: acme/repo-a}\n"
                    + "              - {pointer: /labels/0, oneOf: [bug, docs]}\n"
                    + "              - {pointer: /title, glob: \"bug: *\"}\n"
                    + "              - {pointer: /n, regex: \"[0-9]+\"}\n")
            .apply(example());
    assertThat(AgentSessionValidator.validate(spec(yaml))).isEmpty();
    var condition = spec(yaml).egress().get(0).mcp().tools().get(0).arguments().get(0);
    assertThat(condition.equalTo()).as("'equals' in YAML").isEqualTo("acme/repo-a");
  }

  static final String AWS =
      """
          - name: s3
            awsSigV4: {vault: {path: "secret/data/aws/{{user}}"}, region: us-east-1}
      """;

  @Test
  void anAwsSigV4CredentialIsValidWithoutInject() throws IOException {
    String yaml =
        edit("  egress:\n", AWS + "  egress:\n")
            .andThen(
                edit(
                    "    - name: packages\n",
                    "    - name: s3\n      hosts: [s3.us-east-1.amazonaws.com]\n"
                        + "      credential: s3\n    - name: packages\n"))
            .apply(example());
    assertThat(AgentSessionValidator.validate(spec(yaml))).isEmpty();
    assertThat(spec(yaml).credentials().get(2).awsSigV4().serviceOrDefault()).isEqualTo("s3");
  }

  @ParameterizedTest(name = "rejects {0}")
  @MethodSource("mistakes")
  void rejectsEachMistakeNamingItsField(String mistake, UnaryOperator<String> edit, String field)
      throws IOException {
    String yaml = edit.apply(example());
    List<Violation> violations = AgentSessionValidator.validate(spec(yaml));
    assertThat(violations).as(mistake).extracting(Violation::field).contains(field);
  }

  static UnaryOperator<String> edit(String from, String to) {
    return yaml -> {
      assertThat(yaml).as("test edit anchor").contains(from);
      return yaml.replace(from, to);
    };
  }

  /** Replaces everything from {@code from} to the end with {@code replacement}. */
  static UnaryOperator<String> truncateFrom(String from, String replacement) {
    return yaml -> yaml.substring(0, yaml.indexOf(from)) + replacement;
  }
}
