package dev.capgate.cli.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.JsonSchemas;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class AuditLinesTest {
  static String log(String name) throws IOException {
    try (InputStream in = AuditLinesTest.class.getResourceAsStream("/audit/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static List<AuditLine> pod(String name) throws IOException {
    return AuditLines.parseLog(name.replace(".log", ""), log(name + ".log"));
  }

  /** The fixtures are audit lines as the sidecar writes them: the published schema says so. */
  @Test
  void fixturesAreValidAuditLines() throws IOException {
    for (String file : List.of("agent-a.log", "agent-b.log", "learn.log")) {
      for (String line : log(file).lines().toList()) {
        if (line.startsWith("{\"ts\"")) {
          assertThat(JsonSchemas.violations(JsonSchemas.AUDIT, line)).as(line).isEmpty();
        }
      }
    }
  }

  @Test
  void keepsAuditLinesAndSkipsLogLinesAndNoise() throws IOException {
    List<AuditLine> a = pod("agent-a");
    assertThat(a)
        .extracting(AuditLine::requestId)
        .containsExactly("7gk2m9qa-1b", "7gk2m9qa-1c", "9xk1pp0a-1", null);
    assertThat(a.get(3).isDroppedNotice()).isTrue();
    assertThat(a.get(3).droppedCount()).isEqualTo(3);
    assertThat(a.get(0).pod()).isEqualTo("agent-a");
    assertThat(a.get(0).ts()).isEqualTo(Instant.parse("2026-12-07T02:40:01.123456789Z"));
    assertThat(a.get(0).upstreamStatus()).isEqualTo(200);
    assertThat(a.get(2).destination()).isEqualTo("203.0.113.7:443");
  }

  @Test
  void rejectsWhatIsNotAnAuditLine() {
    assertThat(AuditLines.parse("p", "{\"ts\":\"yesterday\",\"decision\":\"allow\"}")).isEmpty();
    assertThat(AuditLines.parse("p", "{\"ts\":\"2026-12-07T02:40:01Z\"}")).isEmpty();
    assertThat(AuditLines.parse("p", "{\"time\":\"2026-12-07T02:40:01Z\",\"decision\":\"x\"}"))
        .isEmpty();
    assertThat(AuditLines.parse("p", "{broken")).isEmpty();
    assertThat(AuditLines.parse("p", "[1,2]")).isEmpty();
    assertThat(AuditLines.parse("p", null)).isEmpty();
  }

  @Test
  void podNameFallsBackToTheLogsPodWhenTheLineHasNone() {
    var line =
        AuditLines.parse(
            "from-log",
            "{\"ts\":\"2026-12-07T02:40:01Z\",\"event\":\"audit-dropped\",\"count\":1}");
    assertThat(line).get().extracting(AuditLine::pod).isEqualTo("from-log");
  }

  @Test
  void mergesPodsByTimeAndFilters() throws IOException {
    List<AuditLine> merged = AuditLines.merge(List.of(pod("agent-a"), pod("agent-b")));
    assertThat(merged)
        .extracting(l -> l.pod() + "@" + l.ts().toString().substring(17))
        .containsExactly(
            "agent-a@01.123456789Z",
            "agent-b@02Z",
            "agent-a@03.500Z",
            "agent-b@04Z",
            "agent-a@05Z",
            "agent-b@06Z",
            "agent-a@07.250Z",
            "agent-b@08Z");
    assertThat(AuditLines.since(merged, Instant.parse("2026-12-07T02:40:05Z"))).hasSize(4);
    assertThat(AuditLines.since(merged, null)).hasSize(8);
    assertThat(AuditLines.find(merged, "7gk2m9qa-1c"))
        .get()
        .extracting(AuditLine::method)
        .isEqualTo("DELETE");
    assertThat(AuditLines.find(merged, "nope-1")).isEmpty();
  }

  @Test
  void tableShowsOneRowPerLine() throws IOException {
    String table = AuditTable.format(AuditLines.merge(List.of(pod("agent-a"), pod("agent-b"))));
    List<String> rows = table.lines().toList();
    assertThat(rows).hasSize(9);
    assertThat(rows.get(0)).startsWith("TIME").contains("REQUEST-ID", "DECISION", "REASON");
    assertThat(rows.get(1))
        .contains(
            "2026-12-07 02:40:01.123",
            "agent-a",
            "7gk2m9qa-1b",
            "allow",
            "GET api.github.com/repos/acme/repo-a",
            "github-api",
            "github",
            "200");
    assertThat(rows)
        .anySatisfy(r -> assertThat(r).contains("tls evil.example (203.0.113.7:443)", "deny"));
    assertThat(rows).anySatisfy(r -> assertThat(r).contains("dropped", "3 audit lines lost"));
    assertThat(rows).anySatisfy(r -> assertThat(r).contains("DNS A exfil.attacker.example"));
    // Columns are aligned: REQUEST-ID starts at the same offset on every row.
    int at = rows.get(0).indexOf("REQUEST-ID");
    assertThat(rows.get(1).substring(at)).startsWith("7gk2m9qa-1b");
  }
}
