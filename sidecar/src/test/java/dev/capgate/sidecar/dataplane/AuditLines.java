package dev.capgate.sidecar.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;

/** The sidecar's audit lines (in sidecar.log) for a host and a reason. */
final class AuditLines {
  private AuditLines() {}

  /**
   * The last audit line for {@code host} whose reason starts with {@code reasonPrefix}. Audit lines
   * are written by a writer thread when the connection ends: this waits up to 10 s for one.
   */
  static JsonObject awaitLast(PodNetns pod, String host, String reasonPrefix) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !matching(pod, host, reasonPrefix).isEmpty());
    List<JsonObject> lines = matching(pod, host, reasonPrefix);
    assertThat(lines).as(pod.log("sidecar.log")).isNotEmpty();
    return lines.getLast();
  }

  /**
   * The audit line of the request to {@code path} (the normalized path, which must be unique to the
   * caller). Waits up to 10 s for it, as {@link #awaitLast} does.
   */
  static JsonObject awaitPath(PodNetns pod, String path) {
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> ofPath(pod, path) != null);
    return ofPath(pod, path);
  }

  private static JsonObject ofPath(PodNetns pod, String path) {
    for (String line : pod.log("sidecar.log").lines().toList()) {
      if (line.startsWith("{\"ts\"") && line.contains("\"requestId\"")) {
        JsonObject audit = new JsonObject(line);
        if (path.equals(audit.getString("path"))) {
          return audit;
        }
      }
    }
    return null;
  }

  /**
   * Every audit line written so far, as written: the sidecar's stdout objects that are not log
   * lines (log lines, on stderr in the same file, carry a {@code level}).
   */
  static List<String> rawLines(PodNetns pod) {
    List<String> found = new ArrayList<>();
    for (String line : pod.log("sidecar.log").lines().toList()) {
      if (line.startsWith("{\"ts\"") && !new JsonObject(line).containsKey("level")) {
        found.add(line);
      }
    }
    return found;
  }

  /** Every audit line written so far. */
  static List<JsonObject> all(PodNetns pod) {
    List<JsonObject> found = new ArrayList<>();
    for (String line : pod.log("sidecar.log").lines().toList()) {
      if (line.startsWith("{\"ts\"") && line.contains("\"requestId\"")) {
        found.add(new JsonObject(line));
      }
    }
    return found;
  }

  /**
   * The audit lines written so far for {@code host} whose reason starts with {@code reasonPrefix}.
   */
  static List<JsonObject> matching(PodNetns pod, String host, String reasonPrefix) {
    List<JsonObject> found = new ArrayList<>();
    for (String line : pod.log("sidecar.log").lines().toList()) {
      if (line.startsWith("{\"ts\"") && line.contains("\"requestId\"")) {
        JsonObject audit = new JsonObject(line);
        if (host.equals(audit.getString("host"))
            && audit.getString("reason", "").startsWith(reasonPrefix)) {
          found.add(audit);
        }
      }
    }
    return found;
  }
}
