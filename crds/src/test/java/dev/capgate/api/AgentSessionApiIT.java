package dev.capgate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.ProcessResult;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The committed CRD on a real kube-apiserver: schema, CEL rules, printer columns, explain. */
class AgentSessionApiIT {
  static final KubeControlPlane kube = KubeControlPlane.shared();
  private static final AtomicInteger REJECTED = new AtomicInteger();
  static KubernetesClient client;
  static String namespace;

  @BeforeAll
  static void installCrd() {
    client = kube.client();
    kube.applyCrd(Path.of(CrdYamlInSyncTest.FILE));
    namespace = kube.newNamespace("crd");
  }

  static AgentSession session(String yaml) {
    AgentSession s = Serialization.unmarshal(yaml, AgentSession.class);
    s.getMetadata().setNamespace(namespace);
    return s;
  }

  @Test
  void aValidSessionIsAcceptedAndListedWithItsColumns() throws IOException {
    AgentSession created = client.resource(session(AgentSessionValidatorTest.example())).create();
    assertThat(created.getSpec().onRevoke()).as("defaulted by the schema").hasToString("Deny");

    ProcessResult get = kube.kubectl("get", "agentsessions", "-n", namespace);
    assertThat(get.exitCode()).as(get.stderr()).isZero();
    assertThat(get.stdout().lines().findFirst().orElseThrow().split("\\s+"))
        .containsExactly(
            "NAME",
            "USER",
            "AGENT",
            "READY",
            "PHASE",
            "MODE",
            "PODS",
            "EXPIRES",
            "DENIALS",
            "LAST-ACTIVITY",
            "AGE");
    assertThat(get.stdout()).contains("fix-issue-42", "alice@example.com", "coding-agent");

    // By name: other tests of this class create sessions in the same namespace.
    ProcessResult shortName =
        kube.kubectl("get", "ags", "fix-issue-42", "-n", namespace, "-o", "name");
    assertThat(shortName.stdout().strip()).isEqualTo("agentsession.capgate.dev/fix-issue-42");

    ProcessResult category = kube.kubectl("get", "capgate", "-n", namespace, "-o", "name");
    assertThat(category.exitCode()).as(category.stderr()).isZero();
    assertThat(category.stdout()).contains("agentsession.capgate.dev/fix-issue-42");
  }

  @Test
  void theBuildersYamlIsAcceptedByKubectlAsWritten() {
    ProcessResult create =
        kube.kubectlWithInput(
            AgentSessionBuilderTest.example("built").yaml(), "create", "-n", namespace, "-f", "-");
    assertThat(create.exitCode()).as(create.stderr()).isZero();

    AgentSession stored =
        client.resources(AgentSession.class).inNamespace(namespace).withName("built").get();
    // (The schema fills in defaults, onRevoke, authMount and engine, so the specs differ there.)
    AgentSessionSpec built = AgentSessionBuilderTest.example("built").spec();
    assertThat(stored.getSpec().egress()).isEqualTo(built.egress());
    assertThat(stored.getSpec().user()).isEqualTo(built.user());
    assertThat(stored.getSpec().ttl()).isEqualTo(built.ttl());
  }

  @Test
  void aGitHubAppCredentialIsAcceptedAndExplained() throws IOException {
    String yaml =
        AgentSessionValidatorTest.withGitHubApp(app -> app)
            .apply(AgentSessionValidatorTest.example())
            .replace("name: fix-issue-42", "name: github-app");
    ProcessResult create = kube.kubectlWithInput(yaml, "create", "-n", namespace, "-f", "-");
    assertThat(create.exitCode()).as(create.stderr()).isZero();
    AgentSession stored =
        client.resources(AgentSession.class).inNamespace(namespace).withName("github-app").get();
    assertThat(stored.getSpec().credentials().getFirst().githubApp().repositories())
        .containsExactly("repo-a");

    ProcessResult explain =
        kube.kubectl("explain", "agentsession.spec.credentials.githubApp.permissions");
    assertThat(explain.exitCode()).as(explain.stderr()).isZero();
    assertThat(explain.stdout()).contains("pull_requests: write");
  }

  @Test
  void kubectlExplainDescribesTheFields() {
    ProcessResult explain = kube.kubectl("explain", "agentsession.spec.egress.tls");
    assertThat(explain.exitCode()).as(explain.stderr()).isZero();
    assertThat(explain.stdout()).contains("passthrough", "SNI allowlist only");

    // The top level and the conditions, which Fabric8's types leave undescribed, explain too.
    ProcessResult spec = kube.kubectl("explain", "agentsession.spec");
    assertThat(spec.stdout()).contains("What the user delegates to the agent");
    ProcessResult conditionType = kube.kubectl("explain", "agentsession.status.conditions.type");
    assertThat(conditionType.exitCode()).as(conditionType.stderr()).isZero();
    assertThat(conditionType.stdout()).contains("Ready, Expired, Revoked or Recovered.");

    ProcessResult aws = kube.kubectl("explain", "agentsession.spec.credentials.awsSigV4");
    assertThat(aws.exitCode()).as(aws.stderr()).isZero();
    assertThat(aws.stdout()).contains("AWS_SECRET_ACCESS_KEY", "region", "service");
    ProcessResult token =
        kube.kubectl("explain", "agentsession.spec.credentials.awsSigV4.vault.sessionTokenField");
    assertThat(token.stdout()).contains("security_token", "X-Amz-Security-Token");

    ProcessResult limits = kube.kubectl("explain", "agentsession.spec.egress.limits.burst");
    assertThat(limits.exitCode()).as(limits.stderr()).isZero();
    assertThat(limits.stdout()).contains("At least requestsPerSecond");
    ProcessResult bytes = kube.kubectl("explain", "agentsession.spec.limits.maxBytes");
    assertThat(bytes.stdout()).contains("budget-exhausted", "per pod");
  }

  @Test
  void limitsAreAcceptedOnRulesAndTheSession() throws IOException {
    String yaml =
        edit(
                "      credential: github\n",
                "      credential: github\n"
                    + "      limits: {requestsPerSecond: 5, burst: 10, maxConcurrent: 4}\n")
            .andThen(
                edit(
                    "  egress:\n",
                    "  limits: {maxRequests: 10000, maxBytes: 1073741824}\n  egress:\n"))
            .apply(AgentSessionValidatorTest.example())
            .replace("name: fix-issue-42", "name: limited");
    ProcessResult create = kube.kubectlWithInput(yaml, "create", "-n", namespace, "-f", "-");
    assertThat(create.exitCode()).as(create.stderr()).isZero();
    AgentSession stored =
        client.resources(AgentSession.class).inNamespace(namespace).withName("limited").get();
    assertThat(stored.getSpec().egress().getFirst().limits().burst()).isEqualTo(10);
    assertThat(stored.getSpec().limits().maxBytes()).isEqualTo(1073741824L);
  }

  @Test
  void anAwsSigV4CredentialIsAcceptedWithoutInject() {
    String yaml =
        edit("  egress:\n", AgentSessionValidatorTest.AWS + "  egress:\n")
            .apply(uncheckedExample())
            .replace("name: fix-issue-42", "name: aws-ok");
    ProcessResult create = kube.kubectlWithInput(yaml, "create", "-n", namespace, "-f", "-");
    assertThat(create.exitCode()).as(create.stderr()).isZero();
    AgentSession stored =
        client.resources(AgentSession.class).inNamespace(namespace).withName("aws-ok").get();
    assertThat(stored.getSpec().credentials().get(2).awsSigV4().service())
        .as("the schema's default")
        .isEqualTo("s3");
    assertThat(stored.getSpec().credentials().get(2).awsSigV4().vault().engine())
        .isEqualTo(dev.capgate.api.v1alpha1.VaultEngine.KV2);
  }

  private static String uncheckedExample() {
    try {
      return AgentSessionValidatorTest.example();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void userAndAgentAreImmutable() throws IOException {
    String yaml =
        AgentSessionValidatorTest.example().replace("name: fix-issue-42", "name: immutable");
    client.resource(session(yaml)).create();
    assertThatThrownBy(
            () ->
                client
                    .resources(AgentSession.class)
                    .inNamespace(namespace)
                    .withName("immutable")
                    .edit(
                        s ->
                            session(
                                yaml.replace(
                                    "user: alice@example.com", "user: mallory@example.com"))))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.user")
        .hasMessageContaining("spec.user is immutable");
  }

  @Test
  void learnModeIsExplainedDefaultedAndOnlyLeftNeverEntered() throws IOException {
    AgentSession enforced =
        client
            .resource(
                session(
                    AgentSessionValidatorTest.example()
                        .replace("name: fix-issue-42", "name: enforced")))
            .create();
    assertThat(enforced.getSpec().mode()).as("defaulted by the schema").hasToString("Enforce");
    // An enforced session cannot be opened up in place.
    ProcessResult open =
        kube.kubectl(
            "patch",
            "agentsession",
            "enforced",
            "-n",
            namespace,
            "--type=merge",
            "-p",
            "{\"spec\":{\"mode\":\"Audit\"}}");
    assertThat(open.exitCode()).as("Enforce -> Audit was accepted").isNotZero();
    assertThat(open.stderr()).contains("spec.mode", "cannot change from Enforce to Audit");

    String learn =
        AgentSessionValidatorTest.example()
            .replace("name: fix-issue-42", "name: learning")
            .replace("ttl: 2h", "ttl: 2h\n  mode: Audit");
    ProcessResult create = kube.kubectlWithInput(learn, "create", "-n", namespace, "-f", "-");
    assertThat(create.exitCode()).as(create.stderr()).isZero();
    ProcessResult enforce =
        kube.kubectl(
            "patch",
            "agentsession",
            "learning",
            "-n",
            namespace,
            "--type=merge",
            "-p",
            "{\"spec\":{\"mode\":\"Enforce\"}}");
    assertThat(enforce.exitCode()).as(enforce.stderr()).isZero();

    ProcessResult explain = kube.kubectl("explain", "agentsession.spec.mode");
    assertThat(explain.exitCode()).as(explain.stderr()).isZero();
    assertThat(explain.stdout()).contains("would-deny", "WITHOUT any credential", "24h");
  }

  /** Each case: one mistake, the field the API server must name, and words of its message. */
  static Stream<Arguments> rejected() {
    return Stream.of(
        Arguments.of(
            "a rule referencing an unknown credential",
            edit("credential: github\n", "credential: gitlab\n"),
            "spec.egress",
            "must name an entry of spec.credentials"),
        Arguments.of(
            "credentials naming an unknown credential",
            edit("credential: github\n", "credentials: [github, gitlab]\n"),
            "spec.egress",
            "must name an entry of spec.credentials"),
        Arguments.of(
            "a bad host pattern",
            edit("[api.github.com]", "[\"api.*.com\"]"),
            "spec.egress[0].hosts[0]",
            "should match"),
        Arguments.of("a ttl in days", edit("ttl: 2h", "ttl: 3d"), "spec.ttl", "should match"),
        Arguments.of(
            "a ttl over 720h", edit("ttl: 2h", "ttl: 721h"), "spec.ttl", "between 1s and 720h"),
        Arguments.of(
            "Audit mode without a ttl",
            edit("ttl: 2h", "mode: Audit"),
            "spec.mode",
            "requires spec.ttl of at most 24h"),
        Arguments.of(
            "Audit mode with a ttl over 24h",
            edit("ttl: 2h", "ttl: 25h\n  mode: Audit"),
            "spec.mode",
            "requires spec.ttl of at most 24h"),
        Arguments.of(
            "empty egress",
            truncate("  egress:", "  egress: []\n"),
            "spec.egress",
            "at least 1 items"),
        Arguments.of(
            "no user", edit("  user: alice@example.com\n", ""), "spec.user", "Required value"),
        Arguments.of(
            "credentials without vault",
            edit("  vault:\n    role: capgate-agent\n", ""),
            "spec.vault",
            "spec.vault is required"),
        Arguments.of(
            "a passthrough rule with a credential",
            edit("      tls: passthrough\n", "      tls: passthrough\n      credential: github\n"),
            "spec.egress[2].tls",
            "not decrypted"),
        Arguments.of(
            "a header injection without header",
            edit("inject: {type: bearer}", "inject: {type: header}"),
            "spec.credentials[0].inject.header",
            "header is required"),
        Arguments.of(
            "an unknown injection type",
            edit("inject: {type: bearer}", "inject: {type: cookie}"),
            "spec.credentials[0].inject.type",
            "Unsupported value"),
        Arguments.of(
            "a rule with neither hosts nor cidrs",
            edit("      hosts: [github.com]\n", ""),
            "spec.egress[1]",
            "either hosts"),
        Arguments.of(
            "a credential with both vault and githubApp",
            AgentSessionValidatorTest.editFirst(
                AgentSessionValidatorTest.VAULT_SOURCE,
                AgentSessionValidatorTest.VAULT_SOURCE
                    + "      "
                    + AgentSessionValidatorTest.GITHUB_APP_SOURCE.strip()
                    + "\n"),
            "spec.credentials[0]",
            "exactly one kind"),
        Arguments.of(
            "a credential with neither vault nor githubApp",
            AgentSessionValidatorTest.editFirst(
                "      " + AgentSessionValidatorTest.VAULT_SOURCE, ""),
            "spec.credentials[0]",
            "exactly one kind"),
        Arguments.of(
            "a GitHub App API over plain http",
            AgentSessionValidatorTest.withGitHubApp(
                app ->
                    app.replace(
                        "appId: 123456", "appId: 123456\n        apiUrl: http://ghe.example")),
            "spec.credentials[0].githubApp.apiUrl",
            "should match"),
        Arguments.of(
            "a GitHub App permission level that is not read or write",
            AgentSessionValidatorTest.withGitHubApp(
                app -> app.replace("pull_requests: write", "pull_requests: admin")),
            "spec.credentials[0].githubApp.permissions.pull_requests",
            "Unsupported value"),
        Arguments.of(
            "a GitHub App permission name that is not one",
            AgentSessionValidatorTest.withGitHubApp(
                app -> app.replace("{contents: read", "{Contents: read")),
            "spec.credentials[0].githubApp.permissions",
            "permission names"),
        Arguments.of(
            "a GitHub App repository with its owner",
            AgentSessionValidatorTest.withGitHubApp(
                app -> app.replace("[repo-a]", "[acme/repo-a]")),
            "spec.credentials[0].githubApp.repositories[0]",
            "should match"),
        Arguments.of(
            "a credential with both vault and oauth",
            edit(
                "field: token}\n      inject: {type: bearer}",
                "field: token}\n      "
                    + AgentSessionValidatorTest.OAUTH_SOURCE
                    + "      inject: {type: bearer}"),
            "spec.credentials[0]",
            "exactly one kind"),
        Arguments.of(
            "an oauth token endpoint over http",
            AgentSessionValidatorTest.withOAuth(
                oauth -> oauth.replace("https://sso", "http://sso")),
            "spec.credentials[0].oauth.tokenUrl",
            "should match"),
        Arguments.of(
            "an oauth credential with refreshToken and tokenExchange",
            AgentSessionValidatorTest.withOAuth(
                oauth ->
                    oauth.replace("}}\n", "}, tokenExchange: {subjectCredential: github-git}}\n")),
            "spec.credentials[0].oauth",
            "exactly one of refreshToken or tokenExchange"),
        Arguments.of(
            "a token exchange whose subject is not declared",
            AgentSessionValidatorTest.withOAuth(
                oauth ->
                    oauth.replace(
                        "refreshToken: {path: \"secret/data/oauth/{{user}}\"}",
                        "tokenExchange: {subjectCredential: nobody, audience: [api]}")),
            "spec.credentials",
            "subjectCredential must name another credential"),
        Arguments.of(
            "a credential with vault and awsSigV4",
            edit(
                "      inject: {type: bearer}\n",
                "      inject: {type: bearer}\n"
                    + "      awsSigV4: {vault: {path: secret/data/aws}, region: us-east-1}\n"),
            "spec.credentials[0]",
            "exactly one kind"),
        Arguments.of(
            "a credential of no kind",
            edit(
                "      vault: {path: \"secret/data/github/{{user}}\", field: token}\n"
                    + "      inject: {type: bearer}\n",
                ""),
            "spec.credentials[0]",
            "exactly one kind"),
        Arguments.of(
            "an awsSigV4 credential with inject",
            edit(
                "  egress:\n",
                AgentSessionValidatorTest.AWS + "      inject: {type: bearer}\n  egress:\n"),
            "spec.credentials[2].awsSigV4",
            "no inject"),
        Arguments.of(
            "two awsSigV4 credentials",
            edit(
                "  egress:\n",
                AgentSessionValidatorTest.AWS
                    + AgentSessionValidatorTest.AWS.replace("name: s3", "name: s3b")
                    + "  egress:\n"),
            "spec.credentials",
            "at most one awsSigV4"),
        Arguments.of(
            "an awsSigV4 credential reading an identity token",
            edit(
                "  egress:\n",
                AgentSessionValidatorTest.AWS.replace(
                        "aws/{{user}}\"", "aws/{{user}}\", engine: identity-token")
                    + "  egress:\n"),
            "spec.credentials[2].awsSigV4.vault.engine",
            "kv2 or dynamic"),
        Arguments.of(
            "s3 operations on a passthrough rule",
            edit("      tls: passthrough\n", "      tls: passthrough\n      s3: {buckets: [b]}\n"),
            "spec.egress[2].s3",
            "decrypted requests"),
        Arguments.of(
            "an unknown method",
            edit(
                "methods: [GET, POST]\n      paths: [\"/repos",
                "methods: [GET, TRACE]\n      paths: [\"/repos"),
            "spec.egress[0].methods[1]",
            "Unsupported value"),
        Arguments.of(
            "git push rules on a passthrough rule",
            edit("tls: passthrough\n", "tls: passthrough\n      git: {refs: [refs/heads/x]}\n"),
            "spec.egress[2].git",
            "need decrypted HTTP"),
        Arguments.of(
            "a git ref pattern outside refs/",
            edit("refs: [\"refs/heads/agent/**\"]", "refs: [\"heads/agent/**\"]"),
            "spec.egress[3].git.refs[0]",
            "should match"),
        Arguments.of(
            "mcp rules on a passthrough rule",
            edit(
                "tls: passthrough\n",
                "tls: passthrough\n      mcp: {tools: [{name: create_issue}]}\n"),
            "spec.egress[2].mcp",
            "need decrypted HTTP"),
        Arguments.of(
            "an mcp argument condition with two matchers",
            edit(
                "      credential: github\n",
                "      credential: github\n"
                    + "      mcp: {tools: [{name: t, arguments: [{pointer: /a, equals: x, glob: \"x*\"}]}]}\n"),
            "spec.egress[0].mcp.tools[0].arguments[0]",
            "exactly one of equals, oneOf, glob or regex"),
        Arguments.of(
            "grpc methods on a passthrough rule",
            edit(
                "tls: passthrough\n",
                "tls: passthrough\n      grpc: {methods: [pkg.Service/Method]}\n"),
            "spec.egress[2].grpc",
            "judged on decrypted HTTP/2"),
        Arguments.of(
            "a grpc method that is not package.Service/Method",
            edit(
                "      credential: github\n",
                "      credential: github\n      grpc: {methods: [\"pkg.Service/Get*\"]}\n"),
            "spec.egress[0].grpc.methods[0]",
            "should match"),
        Arguments.of(
            "a burst below the rate",
            edit(
                "      credential: github\n",
                "      credential: github\n      limits: {requestsPerSecond: 10, burst: 5}\n"),
            "spec.egress[0].limits.burst",
            "at least requestsPerSecond"),
        Arguments.of(
            "a rate of zero",
            edit(
                "      credential: github\n",
                "      credential: github\n      limits: {requestsPerSecond: 0}\n"),
            "spec.egress[0].limits.requestsPerSecond",
            "greater than or equal to 1"),
        Arguments.of(
            "limits that limit nothing",
            edit("  egress:\n", "  limits: {burst: 3}\n  egress:\n"),
            "spec.limits",
            "must set requestsPerSecond"),
        Arguments.of(
            "a byte budget above 1 PiB",
            edit("  egress:\n", "  limits: {maxBytes: 2000000000000000}\n  egress:\n"),
            "spec.limits.maxBytes",
            "less than or equal to"),
        Arguments.of(
            "limits on a passthrough rule",
            edit("tls: passthrough\n", "tls: passthrough\n      limits: {maxConcurrent: 2}\n"),
            "spec.egress[2].limits",
            "limits count HTTP requests"));
  }

  /** Applied as a user would, with kubectl: the typed model cannot even hold some of these. */
  @ParameterizedTest(name = "the API server rejects {0}")
  @MethodSource("rejected")
  void theApiServerRejectsInvalidSessions(
      String mistake, UnaryOperator<String> edit, String field, String words) throws IOException {
    String yaml =
        edit.apply(AgentSessionValidatorTest.example())
            // A name of its own: were one case wrongly accepted, the next would not fail on it.
            .replace("name: fix-issue-42", "name: bad-" + REJECTED.incrementAndGet());
    ProcessResult create = kube.kubectlWithInput(yaml, "create", "-n", namespace, "-f", "-");
    assertThat(create.exitCode()).as(mistake + " was accepted: " + create.stdout()).isNotZero();
    assertThat(create.stderr()).as(mistake).contains(field).contains(words);
  }

  static UnaryOperator<String> edit(String from, String to) {
    return AgentSessionValidatorTest.edit(from, to);
  }

  static UnaryOperator<String> truncate(String from, String replacement) {
    return AgentSessionValidatorTest.truncateFrom(from, replacement);
  }
}
