package dev.capgate.e2e;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.githubApp;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static dev.capgate.api.v1alpha1.HttpMethod.PUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionBuilder.CredentialBuilder;
import dev.capgate.api.v1alpha1.GitHubPermissionLevel;
import dev.capgate.testkit.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 15 §2 on the real cluster: a session whose GitHub credentials are installation tokens the
 * sidecar mints from the stack's GitHub App (its private key in OpenBao, new per fresh stack),
 * limited to repo-a. Git clone and push and a REST call work from the pod; rules that (wrongly)
 * allow repo-b too still get the upstream's 404, because the token itself is scoped (defence in
 * depth); deleting the AgentSession revokes every token the session's sidecar minted, as the
 * upstream's own log reports.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GitHubAppE2E {
  @AutoClose // the secret sweep
  static AgentSandbox agent;
  static int logOffset;

  static CredentialBuilder app(String name) {
    Stack stack = Stack.get();
    return githubApp(
            name,
            Long.parseLong(stack.valueOr("CAPGATE_E2E_GITHUB_APP_ID", "4242")),
            Long.parseLong(stack.valueOr("CAPGATE_E2E_GITHUB_APP_INSTALLATION", "77")),
            "secret/data/github-app/acme")
        .apiUrl("https://api.github.test")
        .repositories("repo-a")
        .permission("contents", GitHubPermissionLevel.WRITE)
        .permission("pull_requests", GitHubPermissionLevel.WRITE);
  }

  /** The rules are too wide on purpose: all of acme on both hosts. The token is not. */
  static AgentSessionBuilder session(String name) {
    return Sessions.alice(name)
        .credential(app("app-api").bearer(), app("app-git").basic("x-access-token"))
        .egress(
            Sessions.githubApi("api-too-wide", "app-api")
                .methods(GET, PUT, POST)
                .paths("/repos/acme/**"),
            Sessions.gitHost("git-too-wide", "app-git").paths("/acme/**"));
  }

  @BeforeAll
  static void start() {
    logOffset = upstreamsLog().length();
    agent = AgentSandbox.start("ghapp", session("github-app"));
  }

  @Test
  @Order(1)
  void gitCloneAndPushAndTheRestApiWorkWithTheMintedToken() {
    String branch = "agent-" + AgentSandbox.random(6);
    ProcessResult git =
        sh(
            "rm -rf /tmp/a && git clone -q https://github.test/acme/repo-a.git /tmp/a 2>&1 && cd /tmp/a"
                + " && echo 'from the agent' >> README.md && git -c user.name=agent -c user.email=agent@acme.test"
                + " commit -qam 'agent change' && git push origin HEAD:refs/heads/"
                + branch
                + " 2>&1 && git ls-remote origin");
    assertThat(git.exitCode()).as(git.stdout() + git.stderr()).isZero();
    assertThat(git.stdout()).contains("refs/heads/" + branch);
    Path root = Stack.get().gitRoot();
    if (root != null && Files.isDirectory(root)) {
      assertThat(root.resolve("acme/repo-a.git/refs/heads/" + branch)).exists();
    }
    ProcessResult api =
        sh("curl -sS -w '\\nstatus=%{http_code}' https://api.github.test/repos/acme/repo-a");
    assertThat(api.stdout()).contains("status=200").contains("\"full_name\":\"acme/repo-a\"");
    ProcessResult put =
        sh(
            "curl -sS -w '\\nstatus=%{http_code}' -X PUT -d '{\"message\":\"m\",\"content\":\"eA==\"}'"
                + " https://api.github.test/repos/acme/repo-a/contents/notes.md");
    assertThat(put.stdout()).containsPattern("status=20[01]");
  }

  @Test
  @Order(2)
  void repoBIsRefusedByTheUpstreamAlthoughTheRulesAllowIt() {
    ProcessResult api =
        sh("curl -sS -w '\\nstatus=%{http_code}' https://api.github.test/repos/acme/repo-b");
    assertThat(api.stdout()).contains("status=404").doesNotContain("\"full_name\"");
    ProcessResult clone =
        sh("rm -rf /tmp/b && git clone https://github.test/acme/repo-b.git /tmp/b 2>&1");
    assertThat(clone.exitCode()).isNotZero();
    // The sidecar let both through (the rules allow all of acme): the refusal is the token's scope.
    JsonObject line = auditLine("/repos/acme/repo-b");
    assertThat(line.getString("decision")).isEqualTo("allow");
    assertThat(line.getLong("upstreamStatus")).isEqualTo(404L);
    String evidence =
        "defence in depth: rules allow /acme/**, the minted token is for repo-a only →"
            + " api.github.test/repos/acme/repo-b: sidecar "
            + line.getString("decision")
            + ", upstream "
            + line.getLong("upstreamStatus")
            + "; git clone repo-b: "
            + lastLine(clone.stdout());
    System.out.println(evidence);
    Transcript.note(evidence);
  }

  @Test
  @Order(3)
  void deletingTheSessionRevokesEveryTokenItsSidecarMinted() {
    Set<String> minted = fingerprints("github-app token minted");
    assertThat(minted).as("tokens minted for this session (upstreams' log)").isNotEmpty();
    long t0 = System.nanoTime();
    agent
        .kubectl()
        .run("-n", agent.namespace(), "delete", "agentsession", agent.session(), "--wait=false")
        .orThrow();
    Set<String> revoked = Set.of();
    while (System.nanoTime() - t0 < Duration.ofSeconds(45).toNanos()) {
      revoked = revokedWith401();
      if (revoked.containsAll(minted)) {
        break;
      }
      AgentSandbox.sleep(500);
    }
    assertThat(revoked).as("tokens revoked upstream, now answering 401").containsAll(minted);
    String evidence =
        "kubectl delete agentsession → "
            + minted.size()
            + " installation token(s) "
            + minted
            + " revoked upstream (DELETE /installation/token, 204; now 401) in "
            + Duration.ofNanos(System.nanoTime() - t0).toMillis()
            + " ms";
    System.out.println(evidence);
    Transcript.note(evidence);
  }

  // --- helpers --------------------------------------------------------------------------------

  private static ProcessResult sh(String script) {
    ProcessResult r =
        agent
            .kubectl()
            .shWithInput(
                agent.namespace(), AgentSandbox.POD, new byte[0], Duration.ofSeconds(120), script);
    System.out.println("$ " + script + "\n" + r.stdout() + r.stderr());
    return r;
  }

  private static String lastLine(String out) {
    String[] lines = out.strip().split("\n");
    return lines[lines.length - 1].strip();
  }

  private static JsonObject auditLine(String path) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      for (String l : agent.sidecarLog().split("\n")) {
        if (l.startsWith("{") && l.contains("\"path\":\"" + path + "\"")) {
          return new JsonObject(l);
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no audit line for " + path);
      }
      AgentSandbox.sleep(300);
    }
  }

  /** The App's events on the upstreams' log since this class started (fingerprints only). */
  private static List<JsonObject> events(String msg) {
    String log = upstreamsLog();
    List<JsonObject> events = new ArrayList<>();
    for (String l : log.substring(Math.min(logOffset, log.length())).split("\n")) {
      if (l.startsWith("{") && l.contains("\"msg\":\"" + msg + "\"")) {
        events.add(new JsonObject(l));
      }
    }
    return events;
  }

  private static Set<String> fingerprints(String msg) {
    Set<String> tokens = new LinkedHashSet<>();
    events(msg).forEach(e -> tokens.add(e.getString("token")));
    return tokens;
  }

  private static Set<String> revokedWith401() {
    Set<String> tokens = new LinkedHashSet<>();
    for (JsonObject e : events("github-app token revoked")) {
      if (e.getInteger("nowAnswers") == 401) {
        tokens.add(e.getString("token"));
      }
    }
    return tokens;
  }

  /**
   * The upstreams' stdout: the local stack's file, or (Kind) the upstreams pod's log. Read whole:
   * the offset taken at the start keeps earlier classes' events out.
   */
  static String upstreamsLog() {
    Stack stack = Stack.get();
    for (Path dir : stack.logDirs()) {
      Path f = dir.resolve("upstreams.log");
      if (Files.isRegularFile(f)) {
        try {
          return Files.readString(f);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return new Kubectl(stack)
        .run("-n", "capgate-upstreams", "logs", "-l", "app=upstreams", "--tail=-1")
        .stdout();
  }
}
