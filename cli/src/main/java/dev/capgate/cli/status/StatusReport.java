package dev.capgate.cli.status;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.cli.text.Columns;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The text {@code kubectl capgate status} prints: a table of sessions, or one session in full. */
public final class StatusReport {
  private StatusReport() {}

  /** One row per session. */
  public static String table(List<SessionSummary> sessions, Instant now) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("NAME", "PHASE", "READY", "USER", "AGENT", "EXPIRES", "PODS", "ACTIVITY"));
    for (SessionSummary s : sessions) {
      rows.add(
          List.of(
              s.name(),
              s.deleting() ? s.phase() + " (deleting)" : s.phase(),
              s.ready(),
              s.user(),
              s.agent(),
              s.expiresAt().equals("-")
                  ? "-"
                  : s.expiresAt() + " (" + SessionSummary.age(s.expiresAt(), now) + ")",
              s.podsCount(),
              s.activityCell(now)));
    }
    return Columns.align(rows);
  }

  /** One session: its fields, conditions, activity and the pods that carry its label. */
  public static String detail(SessionSummary s, List<Pod> pods, Instant now) {
    StringBuilder b = new StringBuilder();
    line(b, "Name", s.namespace() + "/" + s.name() + (s.deleting() ? "  (being deleted)" : ""));
    line(b, "User", s.user());
    line(b, "Agent", s.agent());
    line(b, "Phase", s.phase());
    if (s.learning()) {
      line(
          b,
          "Mode",
          "Audit (learn mode: what the rules refuse goes out without credentials;"
              + " kubectl capgate suggest "
              + s.name()
              + ")");
    }
    line(b, "Ready", s.ready());
    String expires = s.expiresAt();
    line(
        b,
        "Expires",
        expires.equals("-") ? "-" : expires + " (" + SessionSummary.age(expires, now) + ")");
    if (!s.lastRecovery().equals("-")) {
      line(b, "Last recovery", s.lastRecovery());
    }
    b.append("Conditions:\n");
    boolean any = false;
    for (JsonNode c : s.session().path("status").path("conditions")) {
      any = true;
      b.append("  ")
          .append(c.path("type").asText())
          .append('=')
          .append(c.path("status").asText())
          .append(c.hasNonNull("reason") ? " " + c.path("reason").asText() : "")
          .append(c.hasNonNull("message") ? ": " + c.path("message").asText() : "")
          .append('\n');
    }
    if (!any) {
      b.append("  (none yet: is the operator running?)\n");
    }
    List<Map.Entry<String, String>> activity = s.activity();
    b.append("Activity:\n");
    if (activity.isEmpty()) {
      b.append("  (not reported by this operator version)\n");
    } else {
      activity.forEach(
          e -> b.append("  ").append(e.getKey()).append(": ").append(e.getValue()).append('\n'));
    }
    b.append("Pods:\n");
    if (pods.isEmpty()) {
      b.append("  (none)\n");
    } else {
      List<List<String>> rows = new ArrayList<>();
      rows.add(List.of("NAME", "PHASE", "READY", "RESTARTS", "NODE"));
      for (Pod p : pods) {
        rows.add(podRow(p));
      }
      Columns.align(rows).lines().forEach(l -> b.append("  ").append(l).append('\n'));
    }
    return b.toString();
  }

  static List<String> podRow(Pod p) {
    List<ContainerStatus> statuses =
        p.getStatus() == null || p.getStatus().getContainerStatuses() == null
            ? List.of()
            : p.getStatus().getContainerStatuses();
    long ready = statuses.stream().filter(c -> Boolean.TRUE.equals(c.getReady())).count();
    int total =
        p.getSpec() == null || p.getSpec().getContainers() == null
            ? 0
            : p.getSpec().getContainers().size();
    int restarts =
        statuses.stream()
            .mapToInt(c -> c.getRestartCount() == null ? 0 : c.getRestartCount())
            .sum();
    return List.of(
        p.getMetadata().getName(),
        p.getStatus() == null || p.getStatus().getPhase() == null ? "-" : p.getStatus().getPhase(),
        ready + "/" + total,
        Integer.toString(restarts),
        p.getSpec() == null || p.getSpec().getNodeName() == null ? "-" : p.getSpec().getNodeName());
  }

  private static void line(StringBuilder b, String key, String value) {
    b.append(key)
        .append(':')
        .append(" ".repeat(Math.max(1, 15 - key.length())))
        .append(value)
        .append('\n');
  }
}
