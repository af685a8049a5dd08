package dev.capgate.operator.injection;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.operator.injection.InjectionFixtures.PLAN_WITH_PLACEHOLDERS;
import static dev.capgate.operator.injection.InjectionFixtures.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlaceholdersTest {
  private static final AgentSessionSpec SPEC =
      AgentSessionBuilder.specOnly()
          .user("alice@example.com")
          .agent("coding-agent")
          .vaultRole("capgate-agent")
          .credential(
              kv2("github", "secret/data/github/{{user}}", "token")
                  .bearer()
                  .placeholder("GH_TOKEN"),
              kv2("internal", "secret/data/internal", "token").bearer(),
              kv2("openai", "secret/data/openai", "key").bearer().placeholder("OPENAI_API_KEY"))
          .egress(rule("api").hosts("api.github.com").credential("github"))
          .spec();

  @Test
  void oneOpaquePlaceholderPerCredentialThatAsksForOne() {
    AgentSessionSpec spec = SPEC;
    List<CredentialPlaceholder> placeholders = Placeholders.generate(spec);
    assertThat(placeholders)
        .extracting(CredentialPlaceholder::credential)
        .containsExactly("github", "openai");
    assertThat(placeholders)
        .extracting(CredentialPlaceholder::env)
        .containsExactly("GH_TOKEN", "OPENAI_API_KEY");
    assertThat(placeholders.get(0).value()).matches("capgate-ph-github-[a-z2-7]{32}");
    assertThat(placeholders.get(1).value()).matches("capgate-ph-openai-[a-z2-7]{32}");
    // New for every pod.
    assertThat(Placeholders.generate(spec).get(0).value())
        .isNotEqualTo(placeholders.get(0).value());
    assertThat(placeholders.get(0).toString()).doesNotContain(placeholders.get(0).value());
  }

  @Test
  void anAwsSigV4CredentialGetsAPlaceholderKeyPairInTheAwsVariables() {
    AgentSessionSpec spec =
        AgentSessionBuilder.specOnly()
            .user("alice@example.com")
            .agent("coding-agent")
            .vaultRole("capgate-agent")
            .credential(AgentSessionBuilder.awsSigV4("s3", "secret/data/aws", "us-east-1"))
            .egress(rule("s3").hosts("s3.us-east-1.amazonaws.com").credential("s3"))
            .spec();
    List<CredentialPlaceholder> placeholders = Placeholders.generate(spec);
    assertThat(placeholders).hasSize(1);
    CredentialPlaceholder aws = placeholders.getFirst();
    assertThat(aws.value()).matches("capgate-ph-s3-[a-z2-7]{32}");
    Map<String, String> vars = aws.variables();
    assertThat(vars).containsOnlyKeys("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY");
    assertThat(vars.get("AWS_SECRET_ACCESS_KEY")).isEqualTo(aws.value());
    // Shaped like an AWS key id, and the sidecar derives the same one from the file's value.
    assertThat(vars.get("AWS_ACCESS_KEY_ID"))
        .matches("AKIA[A-Z2-7]{16}")
        .isEqualTo(dev.capgate.api.sidecar.PlaceholderFormat.awsAccessKeyId(aws.value()));
    // The sidecar's file keeps one value per credential, the secret key placeholder.
    assertThat(Placeholders.json(placeholders)).isEqualTo("{\"s3\":\"" + aws.value() + "\"}");
  }

  @Test
  void theSidecarGetsThemByCredentialName() {
    assertThat(Placeholders.json(PLAN_WITH_PLACEHOLDERS.placeholders()))
        .isEqualTo(
            "{\"github\":\"capgate-ph-github-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
                + "\"openai\":\"capgate-ph-openai-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}");
    assertThat(Placeholders.json(List.of())).isEqualTo("{}");
  }

  @Test
  void aContainerAddedByALaterWebhookGetsThePodsPlaceholders() {
    PodInjector injector = new PodInjector(SETTINGS, InjectionFixtures.TRUST_ROOTS);
    Pod injected =
        injector.inject(
            InjectionFixtures.pod(InjectionFixtures.resource("/golden/pod-with-placeholders.yaml")),
            PLAN_WITH_PLACEHOLDERS);
    Pod extended =
        new PodBuilder(injected)
            .editSpec()
            .addNewContainer()
            .withName("late")
            .withImage("late:1")
            .addNewEnv()
            .withName("GH_TOKEN")
            .withValue("ghp_a-real-token")
            .endEnv()
            .endContainer()
            .endSpec()
            .build();
    Pod again = injector.inject(extended, null);
    Container late = again.getSpec().getContainers().getLast();
    assertThat(env(late))
        .containsEntry("GH_TOKEN", "capgate-ph-github-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .containsEntry("OPENAI_API_KEY", "capgate-ph-openai-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
        .containsEntry("SSL_CERT_FILE", "/etc/capgate/trust/ca-bundle.pem");
    assertThat(late.getEnv()).extracting(EnvVar::getName).doesNotHaveDuplicates();
  }

  @Test
  void theAwsClientsTrustThePodCaThroughAwsCaBundle() {
    // The aws CLI and botocore read neither SSL_CERT_FILE nor REQUESTS_CA_BUNDLE (issue 15).
    Pod injected =
        new PodInjector(SETTINGS, InjectionFixtures.TRUST_ROOTS)
            .inject(
                InjectionFixtures.pod(
                    InjectionFixtures.resource("/golden/pod-with-placeholders.yaml")),
                PLAN_WITH_PLACEHOLDERS);
    for (Container agent : injected.getSpec().getContainers()) {
      if (!agent.getName().startsWith("capgate-")) {
        assertThat(env(agent))
            .as(agent.getName())
            .containsEntry("AWS_CA_BUNDLE", "/etc/capgate/trust/ca-bundle.pem");
      }
    }
    assertThat(PodInjector.isCapgateAgentVariable("AWS_CA_BUNDLE")).isTrue();
  }

  @Test
  void placeholdersMayNotTakeTheTrustVariables() {
    assertThat(PodInjector.isCapgateAgentVariable("SSL_CERT_FILE")).isTrue();
    assertThat(PodInjector.isCapgateAgentVariable("JAVA_TOOL_OPTIONS")).isTrue();
    assertThat(PodInjector.isCapgateAgentVariable("CAPGATE_AGENT_JAVA_TOOL_OPTIONS")).isTrue();
    assertThat(PodInjector.isCapgateAgentVariable("GH_TOKEN")).isFalse();
  }

  private static Map<String, String> env(Container c) {
    Map<String, String> env = new LinkedHashMap<>();
    c.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
    return env;
  }
}
