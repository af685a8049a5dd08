package dev.capgate.e2e;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The audit lines of a sandbox's sidecar (its stdout, one JSON object per decision), for the
 * issue-16 classes that assert on a decision's reason. The sidecar writes them from its own thread,
 * so {@link #await} polls until the expected line is there.
 */
final class SidecarAudit {
  private SidecarAudit() {}

  static List<JsonObject> lines(AgentSandbox agent) {
    List<JsonObject> lines = new ArrayList<>();
    for (String l : agent.sidecarLog().split("\n")) {
      if (l.startsWith("{") && l.contains("\"decision\"")) {
        lines.add(new JsonObject(l));
      }
    }
    return lines;
  }

  /** The lines matching {@code what}, once at least {@code count} are there (else fails). */
  static List<JsonObject> await(
      AgentSandbox agent, String description, int count, Predicate<JsonObject> what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    List<JsonObject> found = List.of();
    while (System.nanoTime() < deadline) {
      found = lines(agent).stream().filter(what).toList();
      if (found.size() >= count) {
        return found;
      }
      AgentSandbox.sleep(300);
    }
    throw new AssertionError(
        "expected " + count + " audit line(s) " + description + ", found " + found);
  }

  static Predicate<JsonObject> reasonStarts(String decision, String token) {
    return l ->
        decision.equals(l.getString("decision")) && l.getString("reason", "").startsWith(token);
  }

  /** One line per audit record, the fields a reader needs, for the printed evidence. */
  static String brief(JsonObject l) {
    return String.join(
        " ",
        l.getString("decision"),
        l.getString("method", "-"),
        l.getString("host", "-") + l.getString("path", ""),
        "rule=" + l.getString("rule", "-"),
        "upstream=" + l.getValue("upstreamStatus", "-"),
        "reason=" + l.getString("reason", "-"));
  }
}
