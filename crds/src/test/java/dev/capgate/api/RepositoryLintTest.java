package dev.capgate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Repository-wide checks that belong to no module; here because crds is the first module built.
 *
 * <p>Every shell script of the repository ({@code *.sh} anywhere, {@code .ci/run} and the plugin
 * launcher {@code cli/kubectl-capgate}) is shellcheck-clean at the default severity. A finding is
 * fixed, or disabled on its line with a {@code # shellcheck disable=SCxxxx # why} comment; {@code
 * .shellcheckrc} at the root lets shellcheck follow the {@code env.sh} files the scripts source.
 */
class RepositoryLintTest {
  static final Path ROOT = Path.of("").toAbsolutePath().getParent();

  @Test
  void shellScriptsAreShellcheckClean() throws Exception {
    List<Path> scripts = shellScripts();
    assertThat(scripts)
        .as("shell scripts under %s", ROOT)
        .contains(ROOT.resolve(".ci/run"), ROOT.resolve("hack/tools.sh"));
    List<String> command = new ArrayList<>(List.of(shellcheck(), "--color=never"));
    scripts.forEach(script -> command.add(ROOT.relativize(script).toString()));
    Result result = run(command);
    assertThat(result.exitCode())
        .as("shellcheck found problems in the repository's shell scripts:%n%s", result.output())
        .isZero();
  }

  /**
   * Guards the guard: a finding in a script under the repository (so .shellcheckrc applies) fails.
   */
  @Test
  void shellcheckReportsAFindingUnderThisRepository() throws Exception {
    Path probe = ROOT.resolve("crds/target/lint-probe/probe.sh");
    Files.createDirectories(probe.getParent());
    Files.writeString(probe, "#!/usr/bin/env bash\nrm -rf $1/tmp\n");
    Result result = run(List.of(shellcheck(), "--color=never", ROOT.relativize(probe).toString()));
    assertThat(result.exitCode()).isNotZero();
    assertThat(result.output()).contains("SC2086");
  }

  static List<Path> shellScripts() throws IOException {
    try (Stream<Path> files = Files.walk(ROOT)) {
      return files
          .filter(p -> !ROOT.relativize(p).toString().isEmpty())
          .filter(p -> !generatedOrHidden(ROOT.relativize(p)))
          .filter(
              p ->
                  Files.isRegularFile(p)
                      && (p.getFileName().toString().endsWith(".sh")
                          || p.equals(ROOT.resolve(".ci/run"))
                          || p.equals(ROOT.resolve("cli/kubectl-capgate"))))
          .sorted()
          .toList();
    }
  }

  /** Build output, Git's files and tool state (e2e/kind/.state); {@code .ci} is ours. */
  private static boolean generatedOrHidden(Path relative) {
    for (Path part : relative) {
      String name = part.toString();
      if (name.equals("target")
          || name.equals("node_modules")
          || (name.startsWith(".") && !name.equals(".ci"))) {
        return true;
      }
    }
    return false;
  }

  private static String shellcheck() {
    try {
      Result version = run(List.of("shellcheck", "--version"));
      if (version.exitCode() == 0) {
        return "shellcheck";
      }
    } catch (IOException e) {
      // not on the PATH: said below
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return fail(
        "shellcheck is not installed: apt-get install shellcheck (CI installs it in .ci/run)");
  }

  private record Result(int exitCode, String output) {}

  private static Result run(List<String> command) throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(process.waitFor(), output);
  }
}
