package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.GitPush;
import dev.capgate.testkit.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 16 §1 on the real cluster: a session whose one Git rule may push {@code
 * refs/heads/agent/**} of repo-a (create and fast-forward; no delete, no force-push, nothing else).
 * Real {@code git push} in the agent pod: a branch under agent/ goes through; main, a rewritten
 * (force-pushed) agent branch, a delete and a tag are refused by the sidecar with a message git
 * prints. After each push the Git host's own refs are read from the host: only the allowed push
 * moved anything.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GitPushE2E {
  static final String REPO = "acme/repo-a.git";
  static final String BRANCH = "agent/e2e-" + AgentSandbox.random(6);
  static final String TAG = "v-e2e-" + AgentSandbox.random(6);
  static final Evidence EVIDENCE = new Evidence("git-push.txt");
  @AutoClose // the secret sweep
  static AgentSandbox agent;

  static AgentSessionBuilder session(String name) {
    return Sessions.alice(name)
        .credential(Sessions.githubGit())
        .egress(
            Sessions.gitHost("git-push", "github-git")
                .paths(
                    "/" + REPO + "/info/refs",
                    "/" + REPO + "/git-upload-pack",
                    "/" + REPO + "/git-receive-pack")
                .git(new GitPush(List.of("refs/heads/agent/**"), null, null, null)));
  }

  @BeforeAll
  static void start() {
    agent = AgentSandbox.start("gitpush", session("git-push"));
    ProcessResult clone =
        git("clone", "rm -rf /tmp/r && git clone -q https://github.test/" + REPO + " /tmp/r 2>&1");
    assertThat(clone.exitCode()).as(clone.stdout()).isZero();
  }

  @Test
  @Order(1)
  void aBranchUnderAgentIsPushed() {
    ProcessResult push =
        git(
            "push agent/ branch",
            commit("agent change") + " && git push origin HEAD:refs/heads/" + BRANCH + " 2>&1");
    assertThat(push.exitCode()).as(push.stdout()).isZero();
    assertThat(push.stdout()).contains("[new branch]").doesNotContain("rejected");
    String local = head();
    hostRef("refs/heads/" + BRANCH, local);
    String fastForward =
        git(
                "fast-forward",
                commit("agent change 2")
                    + " && git push origin HEAD:refs/heads/"
                    + BRANCH
                    + " 2>&1")
            .stdout();
    assertThat(fastForward).doesNotContain("rejected");
    hostRef("refs/heads/" + BRANCH, head());
    SidecarAudit.await(
        agent,
        "allow of a receive-pack with the fast-forward proven",
        1,
        l ->
            "allow".equals(l.getString("decision"))
                && l.getString("path", "").endsWith("/git-receive-pack")
                && l.getString("reason", "").contains("fast-forward proven"));
  }

  @Test
  @Order(2)
  void mainIsRefused() {
    String before = hostRef("refs/heads/main", null);
    ProcessResult push = git("push main", "cd /tmp/r && git push origin HEAD:refs/heads/main 2>&1");
    refused(push, "refs/heads/main", "ref not allowed by rule 'git-push'");
    hostRef("refs/heads/main", before);
  }

  @Test
  @Order(3)
  void aForcePushOfTheAgentBranchIsRefused() {
    String before = hostRef("refs/heads/" + BRANCH, null);
    ProcessResult push =
        git(
            "force-push (rewritten branch)",
            "cd /tmp/r && git -c user.name=agent -c user.email=agent@acme.test commit -q --amend -m rewritten"
                + " && git push --force origin HEAD:refs/heads/"
                + BRANCH
                + " 2>&1");
    refused(push, "refs/heads/" + BRANCH, "possible force-push");
    hostRef("refs/heads/" + BRANCH, before);
  }

  @Test
  @Order(4)
  void aDeleteIsRefused() {
    String before = hostRef("refs/heads/" + BRANCH, null);
    ProcessResult push =
        git("delete", "cd /tmp/r && git push origin --delete refs/heads/" + BRANCH + " 2>&1");
    refused(push, "refs/heads/" + BRANCH, "deleting refs is not allowed by rule 'git-push'");
    hostRef("refs/heads/" + BRANCH, before);
  }

  @Test
  @Order(5)
  void aTagIsRefused() {
    ProcessResult push =
        git(
            "tag",
            "cd /tmp/r && git tag " + TAG + " && git push origin refs/tags/" + TAG + " 2>&1");
    refused(push, "refs/tags/" + TAG, "ref not allowed by rule 'git-push'");
    hostRef("refs/tags/" + TAG, "");
  }

  // --- helpers --------------------------------------------------------------------------------

  /** Git refused the push with the sidecar's message, and the audit line says why. */
  private static void refused(ProcessResult push, String ref, String why) {
    assertThat(push.exitCode()).as(push.stdout()).isNotZero();
    assertThat(push.stdout())
        .contains("remote: capgate: push refused: " + ref)
        .contains("[remote rejected]")
        .contains(why);
    SidecarAudit.await(
        agent,
        "deny git-push-refused for " + ref,
        1,
        l ->
            "deny".equals(l.getString("decision"))
                && "git-push".equals(l.getString("rule"))
                && l.getString("reason", "").startsWith("git-push-refused: " + ref));
  }

  private static String commit(String message) {
    return "cd /tmp/r && echo '"
        + message
        + "' >> AGENT.md && git add AGENT.md && git -c user.name=agent -c user.email=agent@acme.test"
        + " commit -qm '"
        + message
        + "'";
  }

  private static String head() {
    return agent.sh("cd /tmp/r && git rev-parse HEAD").stdout().strip();
  }

  /**
   * The ref on the Git host, read from the host's bare repository (local stack), else through
   * {@code git ls-remote} in the pod (Kind: the repositories live in the upstreams pod); asserted
   * equal to {@code expected} unless it is null ("" = absent).
   */
  private static String hostRef(String ref, String expected) {
    Path root = Stack.get().gitRoot();
    String actual;
    if (root != null && Files.isDirectory(root)) {
      actual = GitHead.of(root.resolve(REPO), ref);
    } else {
      String line = agent.sh("cd /tmp/r && git ls-remote origin " + ref).stdout().strip();
      actual = line.isEmpty() ? "" : line.split("\\s+")[0];
    }
    EVIDENCE.note(
        "host", "Git host " + REPO + " " + ref + " = " + (actual.isEmpty() ? "(none)" : actual));
    if (expected != null) {
      assertThat(actual).as("Git host's " + ref).isEqualTo(expected);
    }
    return actual;
  }

  private static ProcessResult git(String label, String script) {
    ProcessResult r =
        agent
            .kubectl()
            .shWithInput(
                agent.namespace(), AgentSandbox.POD, new byte[0], Duration.ofSeconds(120), script);
    EVIDENCE.command(label, script, r);
    return r;
  }
}
