package dev.capgate.cli.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Reads audit lines out of a proxy container's log and merges several pods' by time.
 *
 * <p>A container log is the sidecar's stdout (audit lines, starting with {@code ts}) and its stderr
 * (JSON log lines, starting with {@code time}: ARCHITECTURE.md, "Logs") interleaved, plus whatever
 * else a runtime may add. A line is an audit line when it is a JSON object with a parseable {@code
 * ts} and either a {@code decision} or the {@code audit-dropped} event; everything else is skipped.
 */
public final class AuditLines {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Time order; lines of the same instant keep their order (a stable sort). */
  private static final Comparator<AuditLine> BY_TIME = Comparator.comparing(AuditLine::ts);

  private AuditLines() {}

  /** One log line, if it is an audit line. */
  public static Optional<AuditLine> parse(String pod, String line) {
    if (line == null) {
      return Optional.empty();
    }
    String trimmed = line.strip();
    if (!trimmed.startsWith("{")) {
      return Optional.empty();
    }
    JsonNode json;
    try {
      json = JSON.readTree(trimmed);
    } catch (JsonProcessingException e) {
      return Optional.empty();
    }
    if (json == null || !json.isObject() || !json.path("ts").isTextual()) {
      return Optional.empty();
    }
    boolean record = json.path("decision").isTextual();
    boolean dropped = "audit-dropped".equals(json.path("event").asText(null));
    if (!record && !dropped) {
      return Optional.empty();
    }
    Instant ts;
    try {
      ts = Instant.parse(json.get("ts").textValue());
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
    String podName = json.path("pod").path("name").asText(pod);
    return Optional.of(new AuditLine(podName, ts, json, trimmed));
  }

  /** Every audit line of one pod's log text, in the log's order. */
  public static List<AuditLine> parseLog(String pod, String log) {
    List<AuditLine> lines = new ArrayList<>();
    if (log == null) {
      return lines;
    }
    log.lines().forEach(l -> parse(pod, l).ifPresent(lines::add));
    return lines;
  }

  /**
   * The lines of several pods as one stream in time order. Each pod's sidecar stamps its own lines
   * with its own clock, so lines of different pods are ordered as well as the nodes' clocks agree.
   */
  public static List<AuditLine> merge(List<List<AuditLine>> perPod) {
    List<AuditLine> all = new ArrayList<>();
    perPod.forEach(all::addAll);
    all.sort(BY_TIME);
    return all;
  }

  /** Only the lines at or after {@code since} (null: all). */
  public static List<AuditLine> since(List<AuditLine> lines, Instant since) {
    if (since == null) {
      return lines;
    }
    return lines.stream().filter(l -> !l.ts().isBefore(since)).toList();
  }

  /** The line of that request id, if any (the first, in time order). */
  public static Optional<AuditLine> find(List<AuditLine> lines, String requestId) {
    return lines.stream().filter(l -> requestId.equals(l.requestId())).findFirst();
  }
}
