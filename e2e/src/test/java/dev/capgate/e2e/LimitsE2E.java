package dev.capgate.e2e;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Limits;
import dev.capgate.testkit.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 16 §4 on the real cluster: curl in the agent pod against a rule limited to 1 request/s with
 * a burst of 2 gets 200, 200, 429 with Retry-After; the session's budget of {@value #BUDGET}
 * requests (per pod) then runs out with 403 budget-exhausted. A refused request takes no budget, so
 * exactly {@value #BUDGET} requests are admitted in all. The audit lines carry both reasons.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LimitsE2E {
  static final long BUDGET = 5;
  static final String RATED = "https://api.github.test/repos/acme/repo-a";
  static final String OTHER = "https://api.github.test/repos/acme/repo-a/contents/README.md";
  static final Evidence EVIDENCE = new Evidence("limits.txt");
  @AutoClose // the secret sweep
  static AgentSandbox agent;
  static int admittedByTheRateTest;

  static AgentSessionBuilder session(String name) {
    return Sessions.alice(name)
        .credential(Sessions.github())
        .limits(new Limits(null, null, null, BUDGET, null))
        .egress(
            Sessions.githubApi("rated", "github")
                .methods(GET)
                .paths("/repos/acme/repo-a")
                .limits(new Limits(1, 2, null, null, null)),
            Sessions.githubApi("budgeted", "github").methods(GET).paths("/repos/acme/repo-a/**"));
  }

  @BeforeAll
  static void start() {
    agent = AgentSandbox.start("limits", session("limits"));
  }

  @Test
  @Order(1)
  void aBurstOfTwoThenTooManyRequestsWithRetryAfter() {
    // One curl, the three requests in parallel (-Z) as streams of one HTTP/2 connection: the
    // sidecar admits all three within a few ms, well inside the second the bucket needs to refill a
    // token. One after another, the first one's answer (the session's first Vault login and
    // credential fetch: 1.3 s once under load) was time enough to refill it.
    String script =
        "curl -sS -Z -D - -o /dev/null -o /dev/null -o /dev/null "
            + RATED
            + " "
            + RATED
            + " "
            + RATED;
    ProcessResult r = agent.sh(script);
    EVIDENCE.command("rate", script, r);
    List<Integer> codes = statuses(r.stdout());
    assertThat(codes).as(r.stdout()).containsExactlyInAnyOrder(200, 200, 429);
    Matcher retryAfter = Pattern.compile("(?im)^retry-after: *(\\d+)\\s*$").matcher(r.stdout());
    assertThat(retryAfter.find()).as("Retry-After on the 429").isTrue();
    assertThat(Integer.parseInt(retryAfter.group(1))).isBetween(1, 2);
    admittedByTheRateTest = 2;

    JsonObject line =
        SidecarAudit.await(
                agent, "rate-limited", 1, SidecarAudit.reasonStarts("deny", "rate-limited:"))
            .getFirst();
    assertThat(line.getString("rule")).isEqualTo("rated");
    EVIDENCE.note("rate", "audit: " + SidecarAudit.brief(line));
  }

  @Test
  @Order(2)
  void theSessionsRequestBudgetRunsOutWith403() {
    // Whatever the rate test admitted counts against the session's budget; a 429 took none.
    String script =
        "for i in 1 2 3 4 5 6; do curl -sS -o /tmp/body -w '%{http_code}\\n' "
            + OTHER
            + "; done; echo; cat /tmp/body";
    ProcessResult r = agent.sh(script);
    EVIDENCE.command("budget", script, r);
    List<Integer> codes =
        r.stdout().lines().limit(6).map(String::strip).map(Integer::valueOf).toList();
    int left = (int) BUDGET - admittedByTheRateTest;
    assertThat(codes.subList(0, left)).as("within the budget").doesNotContain(403, 429);
    assertThat(codes.subList(left, codes.size())).as("past the budget").containsOnly(403);
    assertThat(r.stdout()).contains("budget-exhausted");

    JsonObject line =
        SidecarAudit.await(
                agent,
                "budget-exhausted",
                1,
                SidecarAudit.reasonStarts("deny", "budget-exhausted:"))
            .getFirst();
    assertThat(line.getString("reason"))
        .contains("the session has used its budget of " + BUDGET + " requests");
    EVIDENCE.note("budget", "audit: " + SidecarAudit.brief(line));
    long admitted =
        SidecarAudit.lines(agent).stream()
            .filter(l -> "allow".equals(l.getString("decision")))
            .filter(l -> "http.request".equals(l.getString("type", "http.request")))
            .count();
    assertThat(admitted).as("requests admitted in all").isEqualTo(BUDGET);
  }

  /** The status of each response in a {@code curl -D -} header dump, in order. */
  static List<Integer> statuses(String headers) {
    List<Integer> codes = new ArrayList<>();
    Matcher m =
        Pattern.compile("(?m)^HTTP/[0-9.]+ (\\d{3})").matcher(headers.toUpperCase(Locale.ROOT));
    while (m.find()) {
      codes.add(Integer.valueOf(m.group(1)));
    }
    return codes;
  }
}
