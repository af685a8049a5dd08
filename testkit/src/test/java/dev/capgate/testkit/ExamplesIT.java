package dev.capgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every directory of {@code examples/} (an AgentSession and an agent pod template) is accepted by
 * the real API server with the AgentSession CRD installed: {@code kubectl apply --dry-run=server},
 * so the CRD's schema and CEL rules and the pod's validation all run, and nothing is stored. The
 * examples' namespace and ServiceAccount ({@code examples/namespace.yaml}) are applied for real, as
 * a reader would.
 */
@ExtendWith(RealStackExtension.class)
class ExamplesIT {
  private static final Path EXAMPLES = Repository.root().resolve("examples");
  private static final Path CRD =
      Repository.root().resolve("crds/agentsessions.capgate.dev-v1.yml");

  private static KubeControlPlane kube;

  @BeforeAll
  static void installTheCrdAndTheNamespace(KubeControlPlane shared) {
    kube = shared;
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", CRD.toString()).orThrow();
    kube.kubectl(
            "wait", "--for=condition=Established", "--timeout=60s", "crd/agentsessions.capgate.dev")
        .orThrow();
    kube.kubectl("apply", "-f", EXAMPLES.resolve("namespace.yaml").toString()).orThrow();
  }

  static Stream<String> examples() {
    try (Stream<Path> dirs = Files.list(EXAMPLES)) {
      return dirs
          .filter(Files::isDirectory)
          .map(d -> d.getFileName().toString())
          .sorted()
          .toList()
          .stream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void everyServiceTheIssueNamesHasAnExample() {
    assertThat(examples())
        .containsExactlyInAnyOrder(
            "github",
            "github-app",
            "gitlab",
            "openai",
            "anthropic",
            "package-mirrors",
            "mcp-remote",
            "learn-mode");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("examples")
  void theApiServerAcceptsTheSessionAndThePod(String example) {
    Path dir = EXAMPLES.resolve(example);
    assertThat(dir.resolve("agentsession.yaml")).isRegularFile();
    assertThat(dir.resolve("pod.yaml")).isRegularFile();

    ProcessResult applied =
        kube.kubectl("apply", "--dry-run=server", "-n", "agents", "-f", dir.toString());
    assertThat(applied.exitCode()).as(applied.stderr()).isZero();
    assertThat(applied.stdout())
        .contains("agentsession.capgate.dev/")
        .contains("pod/")
        .contains("(server dry run)");
    // The session the pod names is the one next to it.
    String session = name(dir.resolve("agentsession.yaml"));
    assertThat(read(dir.resolve("pod.yaml")))
        .contains("capgate.dev/inject: \"true\"")
        .contains("capgate.dev/session: " + session)
        .contains("serviceAccountName: coding-agent");
  }

  /**
   * The dry run is a real check: the same session with a rule naming no credential it has fails.
   */
  @Test
  void aBrokenExampleIsRefusedByTheCrdsRules() {
    String broken =
        read(EXAMPLES.resolve("openai/agentsession.yaml"))
            .replace("credential: openai\n", "credential: not-declared\n");
    ProcessResult refused =
        kube.kubectlWithInput(broken, "apply", "--dry-run=server", "-n", "agents", "-f", "-");
    assertThat(refused.exitCode()).isNotZero();
    assertThat(refused.stderr())
        .contains("every spec.egress[].credential(s) must name an entry of spec.credentials");
  }

  private static String name(Path file) {
    List<String> lines = read(file).lines().toList();
    int metadata = lines.indexOf("metadata:");
    return lines.get(metadata + 1).strip().substring("name: ".length());
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
