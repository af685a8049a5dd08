package dev.capgate.e2e;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.SessionMode;
import dev.capgate.testkit.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 §5 on the real cluster: a session in learn mode ({@code mode: Audit}, ttl 1h) lets a
 * request no rule allows go out, without any credential (the upstream, which checks its token,
 * answers 401), audited {@code would-deny}; {@code kubectl capgate suggest} (the plugin, as a user
 * runs it) prints a rule for it; that rule, given the credential a reviewer would add and applied
 * to the session switched to Enforce, makes the same call allowed with the credential (200).
 */
class LearnModeE2E {
  static final String LEARNT = "https://api.github.test/repos/acme/repo-b";
  static final ObjectMapper JSON = new ObjectMapper();
  static final Evidence EVIDENCE = new Evidence("learn-mode.txt");
  @AutoClose // the secret sweep
  static AgentSandbox agent;

  static AgentSessionBuilder session(String name, SessionMode mode) {
    return Sessions.alice(name)
        .mode(mode)
        .ttl("1h")
        .credential(Sessions.github())
        .egress(Sessions.githubApi("repo-a", "github").methods(GET).paths("/repos/acme/repo-a"));
  }

  @BeforeAll
  static void start() {
    agent = AgentSandbox.start("learn", session("learn", SessionMode.Audit));
  }

  @Test
  void aWouldDenyCallIsSuggestedAndTheSuggestionAllowsItInEnforce() throws IOException {
    String curl = "curl -sS -w '\\nHTTP %{http_code}' " + LEARNT;
    ProcessResult learnt = agent.sh(curl);
    EVIDENCE.command("audit mode", curl, learnt);
    assertThat(learnt.stdout()).as("the upstream saw no token").contains("HTTP 401");
    JsonObject line =
        SidecarAudit.await(
                agent,
                "would-deny for repo-b",
                1,
                l ->
                    "would-deny".equals(l.getString("decision"))
                        && "/repos/acme/repo-b".equals(l.getString("path")))
            .getFirst();
    EVIDENCE.note("audit mode", "audit: " + SidecarAudit.brief(line));
    assertThat(line.getString("credential")).as("no credential injected").isNull();
    assertThat(line.getString("rule")).isNull();
    assertThat(line.getLong("upstreamStatus")).isEqualTo(401L);
    assertThat(line.getString("reason")).startsWith("no egress rule");

    ProcessResult suggest =
        PluginE2E.capgateIn(
            agent.namespace(), Stack.get().kubeconfig(), "suggest", agent.session());
    EVIDENCE.command("suggest", "kubectl capgate suggest " + agent.session(), suggest);
    assertThat(suggest.exitCode()).as(suggest.stderr()).isZero();
    JsonNode suggested = new YAMLMapper().readTree(suggest.stdout()).path("spec").path("egress");
    assertThat(suggested.isArray() && !suggested.isEmpty()).as(suggest.stdout()).isTrue();
    JsonNode forRepoB = null;
    for (JsonNode r : suggested) {
      if (r.path("hosts").toString().contains("api.github.test")
          && r.path("paths").toString().contains("repo-b")) {
        forRepoB = r;
      }
    }
    assertThat(forRepoB).as("a rule for GET api.github.test/repos/acme/repo-b").isNotNull();
    assertThat(forRepoB.path("methods").toString()).contains("GET");
    assertThat(forRepoB.has("credential")).as("suggest names no credential").isFalse();

    // What the reviewer does: add the credential, append the rule, switch to Enforce.
    ObjectNode reviewed = ((ObjectNode) forRepoB.deepCopy()).put("credential", "github");
    ObjectNode enforce =
        (ObjectNode) JSON.readTree(session(agent.session(), SessionMode.Enforce).json());
    ((ArrayNode) enforce.path("spec").path("egress")).add(reviewed);
    agent
        .kubectl()
        .run(
            JSON.writeValueAsBytes(enforce),
            Duration.ofSeconds(60),
            "-n",
            agent.namespace(),
            "apply",
            "-f",
            "-")
        .orThrow();
    EVIDENCE.note("enforce", "applied to " + agent.session() + ": " + reviewed);

    // The sidecar follows the session's spec: the same call is now allowed, with the token.
    long t0 = System.nanoTime();
    ProcessResult allowed = agent.sh(curl);
    while (!allowed.stdout().contains("HTTP 200")
        && System.nanoTime() - t0 < Duration.ofSeconds(60).toNanos()) {
      AgentSandbox.sleep(1000);
      allowed = agent.sh(curl);
    }
    EVIDENCE.command("enforce", curl, allowed);
    assertThat(allowed.stdout()).contains("HTTP 200").contains("\"full_name\":\"acme/repo-b\"");
    String ruleName = reviewed.path("name").asText();
    JsonObject allow =
        SidecarAudit.await(
                agent,
                "allow by the suggested rule",
                1,
                l ->
                    "allow".equals(l.getString("decision"))
                        && ruleName.equals(l.getString("rule"))
                        && "/repos/acme/repo-b".equals(l.getString("path")))
            .getFirst();
    EVIDENCE.note("enforce", "audit: " + SidecarAudit.brief(allow));
    assertThat(allow.getString("credential")).isEqualTo("github");
    // And Enforce refuses what no rule names again (no longer would-deny).
    ProcessResult other =
        agent.sh("curl -sS -w '\\nHTTP %{http_code}' https://api.github.test/repos/acme/repo-c");
    assertThat(other.stdout()).contains("HTTP 403");
  }
}
