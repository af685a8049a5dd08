package dev.capgate.cli.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line itself: help, refusals and exit codes of the offline verbs. */
class CommandLineTest {
  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"status", "audit", "explain", "lint", "test", "revoke", "recover"})
  void everyVerbHasHelpWithItsExitCodes(String verb) {
    Run r = run(verb, "--help");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("Usage: kubectl capgate " + verb, "Exit codes:");
  }

  @Test
  void noVerbPrintsTheVerbs() {
    Run r = run();
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("status", "audit", "explain", "lint", "test", "revoke", "recover");
  }

  /** The verbs that wait for the operator share one --timeout (TimeoutOption). */
  @ParameterizedTest
  @ValueSource(strings = {"revoke", "recover"})
  void theWaitingVerbsTakeATimeoutInTheApisGrammar(String verb) {
    assertThat(run(verb, "--help").out())
        .contains("--timeout=DURATION", "How long to wait for the operator (default: 60s).");
    Run bad = run(verb, "s", "--timeout", "10 minutes");
    assertThat(bad.exit()).isEqualTo(ExitCodes.USAGE);
    assertThat(bad.err()).contains("--timeout", "10 minutes");
  }

  @Test
  void unknownFlagsAndVerbsAreRefused() {
    Run r = run("status", "--bogus");
    assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
    assertThat(r.err()).contains("Unknown option: '--bogus'", "kubectl capgate status --help");
    assertThat(run("frobnicate").exit()).isEqualTo(ExitCodes.USAGE);
    assertThat(run("recover").exit()).isEqualTo(ExitCodes.USAGE); // SESSION or --all
    assertThat(run("recover", "s", "--all").exit()).isEqualTo(ExitCodes.USAGE);
    assertThat(run("revoke", "s", "--timeout", "soon").exit()).isEqualTo(ExitCodes.USAGE);
    assertThat(run("audit", "s", "--since", "yesterday").exit()).isEqualTo(ExitCodes.USAGE);
    assertThat(run("test", "f.yaml").exit()).isEqualTo(ExitCodes.USAGE); // --request is required
    Run bad = run("test", "f.yaml", "--request", "https://x");
    assertThat(bad.exit()).isEqualTo(ExitCodes.USAGE);
    assertThat(bad.err()).contains("METHOD URL");
  }

  /** As kubectl: a context that is not in the kubeconfig is an error, not the current one. */
  @Test
  void anUnknownContextIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws java.io.IOException {
    java.nio.file.Path kubeconfig = dir.resolve("config");
    java.nio.file.Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
        contexts: [{name: a, context: {cluster: c, user: u}}]
        current-context: a
        users: [{name: u, user: {token: not-a-secret}}]
        """);
    Run r = run("status", "--kubeconfig", kubeconfig.toString(), "--context", "nosuch");
    assertThat(r.exit()).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err()).contains("context \"nosuch\" does not exist in the kubeconfig");
    Run down = run("status", "--kubeconfig", kubeconfig.toString(), "-n", "x");
    assertThat(down.exit()).isEqualTo(ExitCodes.ERROR);
    assertThat(down.err()).contains("error: the Kubernetes API", "failed. (", "Exception");
  }

  @Test
  void lintExitCodes() {
    Run ok = run("lint", "../crds/examples/fix-issue-42.yaml");
    assertThat(ok.exit()).isZero();
    assertThat(ok.out())
        .contains("AgentSession fix-issue-42: valid (4 egress rule(s), 2 credential(s))");
    Run bad = run("lint", "src/test/resources/sessions/bad.yaml");
    assertThat(bad.exit()).isEqualTo(ExitCodes.FAILED);
    assertThat(bad.out())
        .contains("AgentSession bad: ", "  spec.egress[1].hots: unknown field (a typo?)");
    assertThat(run("lint", "no-such-file.yaml").exit()).isEqualTo(ExitCodes.NOT_FOUND);
  }

  @Test
  void testExitCodes() {
    Run allowed =
        run(
            "test",
            "../crds/examples/fix-issue-42.yaml",
            "--request",
            "GET https://api.github.com/repos/acme/repo-a");
    assertThat(allowed.exit()).isZero();
    assertThat(allowed.out())
        .contains(
            "decision    allow",
            "rule        github-api",
            "credential  github  Authorization: Bearer <value>");
    Run denied =
        run(
            "test",
            "../crds/examples/fix-issue-42.yaml",
            "-r",
            "GET https://api.github.com/repos/acme/repo-a",
            "-r",
            "DELETE https://api.github.com/repos/acme/repo-a");
    assertThat(denied.exit()).isEqualTo(ExitCodes.FAILED);
    assertThat(denied.out())
        .contains("decision    deny", "no egress rule for api.github.com allows DELETE");
    Run invalid =
        run("test", "src/test/resources/sessions/bad.yaml", "-r", "GET https://api.github.com/");
    assertThat(invalid.exit()).isEqualTo(ExitCodes.FAILED);
    assertThat(invalid.out()).contains("is invalid: the sidecar would deny every request");
  }
}
