package dev.capgate.api;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.session;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.GitPush;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The builder writes what a user writes by hand: the example file, field for field. */
class AgentSessionBuilderTest {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  /** examples/fix-issue-42.yaml, named {@code name}. */
  static AgentSessionBuilder example(String name) {
    return example(name, kv2("github", "secret/data/github/{{user}}", "token").bearer());
  }

  /** The example with {@code github} as its first credential. */
  static AgentSessionBuilder example(String name, AgentSessionBuilder.CredentialBuilder github) {
    return session(name)
        .user("alice@example.com")
        .agent("coding-agent")
        .project("payments")
        .ttl("2h")
        .vaultRole("capgate-agent")
        .credential(
            github,
            kv2("github-git", "secret/data/github/{{user}}", "token").basic("x-access-token"))
        .egress(
            rule("github-api")
                .hosts("api.github.com")
                .methods(GET, POST)
                .paths("/repos/acme/repo-a", "/repos/acme/repo-a/**")
                .credential("github"),
            rule("git-fetch")
                .hosts("github.com")
                .methods(GET, POST)
                .paths("/acme/repo-a.git/info/refs", "/acme/repo-a.git/git-upload-pack")
                .credential("github-git"),
            rule("packages").hosts("pypi.org", "files.pythonhosted.org").passthrough(),
            rule("git-push")
                .hosts("github.com")
                .methods(GET, POST)
                .paths("/acme/repo-a.git/info/refs", "/acme/repo-a.git/git-receive-pack")
                .credential("github-git")
                .git(new GitPush(List.of("refs/heads/agent/**"), null, null, null)));
  }

  @Test
  void theExampleBuiltIsTheExampleWritten() throws IOException {
    AgentSession written =
        SERIALIZATION.unmarshal(AgentSessionValidatorTest.example(), AgentSession.class);

    assertThat(example("fix-issue-42").build()).isEqualTo(written);
  }

  @Test
  void itsYamlReadsBackAsTheSameSessionWithNothingAddedButTheTypeAndMetadata() {
    String yaml = example("fix-issue-42").namespace("agents").yaml();

    assertThat(SERIALIZATION.unmarshal(yaml, AgentSession.class))
        .isEqualTo(example("fix-issue-42").namespace("agents").build());
    assertThat(yaml)
        .contains("apiVersion: \"capgate.dev/v1alpha1\"")
        .contains("kind: \"AgentSession\"")
        .doesNotContain("null")
        .doesNotContain("status");
    assertThat(SERIALIZATION.unmarshal(example("fix-issue-42").json(), AgentSession.class))
        .isEqualTo(example("fix-issue-42").build());
  }

  @Test
  void aGitHubAppCredentialBuiltIsTheOneWritten() throws IOException {
    AgentSession built =
        example(
                "fix-issue-42",
                AgentSessionBuilder.githubApp("github", 123456, 7890, "secret/data/github-app/acme")
                    .repositories("repo-a")
                    .permission("contents", dev.capgate.api.v1alpha1.GitHubPermissionLevel.READ)
                    .permission(
                        "pull_requests", dev.capgate.api.v1alpha1.GitHubPermissionLevel.WRITE)
                    .bearer())
            .build();
    AgentSession written =
        SERIALIZATION.unmarshal(
            AgentSessionValidatorTest.withGitHubApp(app -> app)
                .apply(AgentSessionValidatorTest.example()),
            AgentSession.class);
    assertThat(built).isEqualTo(written);
    assertThat(SERIALIZATION.asYaml(built)).doesNotContain("vault: null").contains("githubApp");
  }

  @Test
  void aSpecOnlyDocumentHoldsTheSpecAlone() {
    AgentSessionBuilder spec =
        AgentSessionBuilder.specOnly()
            .user("alice@example.com")
            .agent("coding-agent")
            .egress(rule("api").hosts("api.example.com"));

    GenericKubernetesResource document =
        SERIALIZATION.unmarshal(spec.specYaml(), GenericKubernetesResource.class);

    assertThat(document.getApiVersion()).isNull();
    assertThat(document.getKind()).isNull();
    assertThat(document.getMetadata()).isNull();
    assertThat(SERIALIZATION.convertValue(document.get("spec"), AgentSessionSpec.class))
        .isEqualTo(spec.spec());
  }
}
