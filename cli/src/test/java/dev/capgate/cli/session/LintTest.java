package dev.capgate.cli.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.Violation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LintTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path EXAMPLE = REPO.resolve("crds/examples/fix-issue-42.yaml");
  static final Path BAD = Path.of("src/test/resources/sessions/bad.yaml");

  /** Every session the repository ships passes: lint agrees with what the e2e suite applies. */
  @Test
  void theRepositorysSessionsAreValid() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(REPO.resolve("examples"))) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    int sessions = 0;
    for (Path f : Stream.concat(Stream.of(EXAMPLE), files.stream()).toList()) {
      for (SessionDocument d : SessionFiles.read(f)) {
        sessions++;
        assertThat(Lint.check(d).violations()).as(f + " " + d.label()).isEmpty();
      }
    }
    assertThat(sessions).isGreaterThanOrEqualTo(6);
  }

  @Test
  void reportsEveryViolationWithItsField() throws IOException {
    List<SessionDocument> docs = SessionFiles.read(BAD);
    assertThat(docs).hasSize(1); // the Pod is skipped
    List<Violation> v = Lint.check(docs.get(0)).violations();
    assertThat(v)
        .extracting(Violation::toString)
        .contains(
            "spec.egress[1].hots: unknown field (a typo?)",
            "spec.agent: must be a DNS label (lower-case letters, digits, '-')",
            "spec.egress[0].credential: 'github' is not declared in spec.credentials",
            "spec.egress[1]: a rule names either hosts or cidrs, not both and not neither");
    assertThat(v).anySatisfy(x -> assertThat(x.field()).isEqualTo("spec.egress[0].paths"));
  }

  @Test
  void shapeProblems(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("s.json");
    Files.writeString(
        f,
        "{\"apiVersion\":\"capgate.dev/v1\",\"kind\":\"AgentSession\",\"metadata\":{},"
            + "\"spec\":{\"user\":\"a\",\"agent\":\"b\",\"egress\":[{\"name\":\"x\",\"hosts\":[\"a.b\"],\"ports\":[\"https\"]}]}}");
    SessionDocument d = SessionFiles.read(f).get(0);
    assertThat(Lint.check(d).violations())
        .extracting(Violation::field)
        .containsExactly("apiVersion", "metadata.name", "spec.egress[0].ports[0]");
  }

  @Test
  void aBareSpecIsASession(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("spec.json");
    Files.writeString(
        f,
        "{\"user\":\"a\",\"agent\":\"b\",\"egress\":[{\"name\":\"x\",\"hosts\":[\"a.example\"]}]}");
    assertThat(Lint.check(SessionFiles.read(f).get(0)).ok()).isTrue();
  }

  @Test
  void notYaml(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("x.yaml");
    Files.writeString(f, "a: [unclosed\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> SessionFiles.read(f))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("is not valid YAML or JSON");
  }
}
