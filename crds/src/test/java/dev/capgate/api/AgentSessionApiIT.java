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
            "should match"));
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
