package dev.capgate.cli.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusReportTest {
  static final Instant NOW = Instant.parse("2026-12-07T03:00:00Z");

  static final String ACTIVE =
      """
      {"metadata":{"name":"fix-issue-42","namespace":"agents"},
       "spec":{"user":"alice@example.com","agent":"coding-agent"},
       "status":{"phase":"Active","expiresAt":"2026-12-07T05:00:00Z","pods":1,
         "conditions":[{"type":"Ready","status":"True","reason":"Valid","message":"enforced"}],
         "activity":{"requests":12,"denials":2,"lastActivity":"2026-12-07T02:55:00Z",
           "lastDenial":{"time":"2026-12-07T02:50:00Z","host":"api.github.com","method":"DELETE","requestId":"7gk2m9qa-1c"}},
         "lastRecovery":"2026-12-07T01:00:00Z"}}
      """;

  static final String OLD_OPERATOR =
      """
      {"metadata":{"name":"old","namespace":"agents"},"spec":{"user":"bob","agent":"a"},
       "status":{"phase":"Pending","conditions":[{"type":"Ready","status":"False","reason":"InvalidSpec"}]}}
      """;

  static SessionSummary summary(String json) throws Exception {
    return new SessionSummary(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json));
  }

  @Test
  void tableWithAndWithoutActivity() throws Exception {
    String table = StatusReport.table(List.of(summary(ACTIVE), summary(OLD_OPERATOR)), NOW);
    List<String> rows = table.lines().toList();
    assertThat(rows.get(0))
        .startsWith("NAME")
        .contains("PHASE", "READY", "USER", "AGENT", "EXPIRES", "PODS", "ACTIVITY");
    assertThat(rows.get(1))
        .contains(
            "fix-issue-42",
            "Active",
            "True",
            "alice@example.com",
            "coding-agent",
            "(in 2h)",
            "12 req, 2 denied, last 5m ago");
    assertThat(rows.get(2)).contains("old", "Pending", "False (InvalidSpec)", "bob").endsWith("-");
  }

  @Test
  void detailShowsActivityConditionsAndPods() throws Exception {
    var pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("agent-a")
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("agent")
            .endContainer()
            .withNodeName("node-1")
            .endSpec()
            .withNewStatus()
            .withPhase("Running")
            .addNewContainerStatus()
            .withName("agent")
            .withReady(true)
            .withRestartCount(1)
            .endContainerStatus()
            .endStatus()
            .build();
    String text = StatusReport.detail(summary(ACTIVE), List.of(pod), NOW);
    assertThat(text)
        .contains("Name:           agents/fix-issue-42")
        .contains("Last recovery:  2026-12-07T01:00:00Z")
        .contains("  Ready=True Valid: enforced")
        .contains("  denials: 2")
        .contains("  lastDenial.requestId: 7gk2m9qa-1c")
        .containsPattern("agent-a +Running +1/1 +1 +node-1");
    assertThat(StatusReport.detail(summary(OLD_OPERATOR), List.of(), NOW))
        .contains("(not reported by this operator version)", "Pods:\n  (none)")
        .doesNotContain("Mode:");
    assertThat(text).doesNotContain("Mode:");
  }

  @Test
  void aLearnSessionSaysSoAndWhatToRunNext() throws Exception {
    String learning =
        ACTIVE.replace(
            "\"agent\":\"coding-agent\"", "\"agent\":\"coding-agent\",\"mode\":\"Audit\"");
    assertThat(StatusReport.detail(summary(learning), List.of(), NOW))
        .contains(
            "Mode:           Audit (learn mode: what the rules refuse goes out without credentials;"
                + " kubectl capgate suggest fix-issue-42)");
  }
}
