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

  @Test
  void aMissingSpecIsInvalid() {
    assertThat(AgentSessionValidator.validate(null))
        .extracting(Violation::field)
        .containsExactly("spec");
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
            "an agent name with capitals",
            edit("agent: coding-agent", "agent: Coding-Agent"),
            "spec.agent"));
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
