package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.ProcessResult;
import java.nio.file.Path;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The article's scenario, with the real {@code git} client and curl in the agent pod: clone and
 * fetch of repo A allowed, a pull request on repo A allowed, push denied, admin operations denied,
 * repo B denied, calls outside the Git host blocked — and the agent never holds the token.
 */
// The order makes the transcript read as the article's story; no test needs another to have run
// (each clones its own copy of repo A, the audit test makes its own decisions to find).
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ArticleScenarioE2E {
  @AutoClose // the secret sweep
  static AgentSandbox agent;

  @BeforeAll
  static void start() {
    agent = AgentSandbox.start("article", Sessions.article("fix-issue-42"));
  }

  @Test
  @Order(1)
  void cloneOfRepoAIsAllowed() {
    ProcessResult clone = agent.sh(cloneOfRepoA("/tmp/clone") + " && cat /tmp/clone/README.md");
    assertThat(clone.exitCode()).as(clone.stderr()).isZero();
    assertThat(clone.stdout()).contains("# acme/repo-a");
  }

  @Test
  @Order(2)
  void fetchOfRepoAIsAllowed() {
    ProcessResult fetch =
        agent.sh(
            cloneOfRepoA("/tmp/fetch")
                + " && cd /tmp/fetch && git fetch -v origin 2>&1 && git ls-remote origin");
    assertThat(fetch.exitCode()).as(fetch.stdout() + fetch.stderr()).isZero();
    assertThat(fetch.stdout()).contains("refs/heads/main");
  }

  @Test
  @Order(3)
  void pullRequestOnRepoAIsAllowed() {
    ProcessResult pr =
        agent.sh(
            "curl -sS -w '\\nHTTP %{http_code}' -X POST -H 'content-type: application/json' "
                + "-d '{\"title\":\"Fix issue 42\",\"head\":\"fix-42\",\"base\":\"main\"}' https://api.github.test/repos/acme/repo-a/pulls");
    assertThat(pr.stdout())
        .contains("HTTP 201")
        .contains("\"number\":43")
        .contains("\"base\":\"acme/repo-a\"");
  }

  @Test
  @Order(4)
  void readingRepoAThroughTheApiIsAllowedAndTheAgentsOwnHeaderIsReplaced() {
    // The agent's own Authorization (a guess, a stolen value...) is replaced by the injected one.
    ProcessResult get =
        agent.sh(
            "curl -sS -w '\\nHTTP %{http_code}' -H 'Authorization: Bearer not-the-token' "
                + "https://api.github.test/repos/acme/repo-a");
    assertThat(get.stdout()).contains("HTTP 200").contains("\"full_name\":\"acme/repo-a\"");
  }

  @Test
  @Order(5)
  void pushIsDenied() {
    Path repo =
        Stack.get().gitRoot() == null ? null : Stack.get().gitRoot().resolve("acme/repo-a.git");
    String before = repo == null ? null : GitHead.of(repo);
    ProcessResult push =
        agent.sh(
            cloneOfRepoA("/tmp/push")
                + " && cd /tmp/push && echo fix >> README.md && git -c user.name=agent -c user.email=a@acme.test "
                + "commit -qam 'fix issue 42' && git push origin HEAD:main 2>&1");
    assertThat(push.exitCode()).as("git push must fail").isNotZero();
    assertThat(push.stdout()).contains("403");
    if (repo != null) {
      assertThat(GitHead.of(repo)).as("repo A's main on the Git host").isEqualTo(before);
    }
    ProcessResult branch =
        agent.sh("cd /tmp/push && git push origin HEAD:refs/heads/agent-branch 2>&1");
    assertThat(branch.exitCode()).as("pushing a new branch must fail too").isNotZero();
  }

  @Test
  @Order(6)
  void adminOperationsAreDenied() {
    ProcessResult delete =
        agent.sh(
            "curl -sS -w '\\n%{content_type}\\nHTTP %{http_code}' -X DELETE https://api.github.test/repos/acme/repo-a");
    // An RFC 9457 problem, the fields agents read before kept as extension members.
    assertThat(delete.stdout())
        .contains("HTTP 403")
        .contains("\napplication/problem+json\n")
        .contains("\"type\":\"tag:capgate.dev,2026:problem:denied\"")
        .contains("\"status\":403")
        .contains("\"instance\":")
        .contains("\"error\":")
        .contains("\"method\":\"DELETE\"")
        .contains("\"path\":\"/repos/acme/repo-a\"")
        .contains("\"requestId\":");
    ProcessResult patch =
        agent.sh(
            "curl -sS -w '\\nHTTP %{http_code}' -X PATCH -d '{\"private\":false}' https://api.github.test/repos/acme/repo-a");
    assertThat(patch.stdout()).contains("HTTP 403");
  }

  @Test
  @Order(7)
  void repoBIsDenied() {
    ProcessResult api =
        agent.sh("curl -sS -w '\\nHTTP %{http_code}' https://api.github.test/repos/acme/repo-b");
    assertThat(api.stdout()).contains("HTTP 403").doesNotContain("\"full_name\"");
    ProcessResult clone =
        agent.sh("git clone https://github.test/acme/repo-b.git /tmp/repo-b 2>&1");
    assertThat(clone.exitCode()).isNotZero();
    assertThat(clone.stdout()).contains("403");
  }

  @Test
  @Order(8)
  void callsOutsideTheGitHostAreBlocked() {
    // A host the session does not name, on the same upstream server: refused before any HTTP.
    ProcessResult mcp =
        agent.sh(
            "curl -sS -m 10 -w '\\nHTTP %{http_code}' -X POST -d '{}' https://mcp.test/mcp 2>&1");
    assertThat(mcp.stdout())
        .doesNotContain("HTTP 200")
        .doesNotContain("HTTP 401")
        .doesNotContain("jsonrpc");
    // Plain HTTP anywhere: the sidecar's JSON error; an unknown name: NXDOMAIN.
    ProcessResult http =
        agent.sh(
            "curl -sS -m 10 -w '\\nHTTP %{http_code}' http://"
                + Stack.get().upstreamIp()
                + "/ 2>&1");
    assertThat(http.stdout()).contains("HTTP 403").contains("\"requestId\"");
    ProcessResult dns = agent.sh("getent hosts pypi.org || echo NXDOMAIN");
    assertThat(dns.stdout()).contains("NXDOMAIN");
    // The API host, but a path outside repo A.
    ProcessResult user =
        agent.sh("curl -sS -w '\\nHTTP %{http_code}' https://api.github.test/user");
    assertThat(user.stdout()).contains("HTTP 403");
  }

  @Test
  @Order(9)
  void theSidecarAuditsEveryDecisionWithoutTheSecret() {
    // Its own decisions to find (an API read, a Git read, a denied repo), whichever tests ran.
    agent.sh(
        "curl -s -o /dev/null https://api.github.test/repos/acme/repo-a; "
            + "curl -s -o /dev/null https://api.github.test/repos/acme/repo-b; "
            + "git ls-remote https://github.test/acme/repo-a.git >/dev/null 2>&1; true");
    String log = agent.sidecarLog();
    assertThat(log)
        .contains("\"decision\":\"allow\"")
        .contains("\"rule\":\"github-api\"")
        .contains("\"rule\":\"git-fetch\"")
        .contains("\"decision\":\"deny\"")
        .contains("\"user\":\"alice@example.com\"")
        // issue 14's fields, from the webhook's downward-API settings and the real connection
        .contains("\"type\":\"http.request\"")
        .contains("\"pod\":{\"name\":\"")
        .contains("\"protocol\":\"")
        .contains("\"destination\":{\"ip\":\"")
        .contains("\"bytesIn\":");
    assertThat(
            SecretSweep.findingsIn(
                Stack.get(),
                "the sidecar log",
                log.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .isEmpty();
  }

  /** A fresh clone of repo A in {@code dir}: each test that needs one makes its own. */
  private static String cloneOfRepoA(String dir) {
    return "rm -rf " + dir + " && git clone -q https://github.test/acme/repo-a.git " + dir;
  }
}
