package dev.capgate.cli.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One line of a sidecar's audit stream (docs/audit.md), as read back from the proxy container's
 * log: a decision record, or the writer's {@code audit-dropped} notice. Only the fields the plugin
 * shows have accessors; {@link #json()} keeps the whole line, so a field added later is printed by
 * {@code -o json} without a change here.
 *
 * @param pod the pod whose log held the line (the line's own {@code pod.name} when it has one)
 * @param raw the line exactly as the sidecar wrote it
 */
public record AuditLine(String pod, Instant ts, JsonNode json, String raw) {

  /** The {@code audit-dropped} notice: records lost while stdout stalled. */
  public boolean isDroppedNotice() {
    return "audit-dropped".equals(text("event"));
  }

  public String requestId() {
    return text("requestId");
  }

  public String decision() {
    return text("decision");
  }

  public String type() {
    return text("type");
  }

  public String host() {
    return text("host");
  }

  public String method() {
    return text("method");
  }

  public String path() {
    return text("path");
  }

  public String rule() {
    return text("rule");
  }

  public String credential() {
    return text("credential");
  }

  public String reason() {
    return text("reason");
  }

  public String session() {
    return text("session");
  }

  public String namespace() {
    return text("namespace");
  }

  public String user() {
    return text("user");
  }

  public String agent() {
    return text("agent");
  }

  public String protocol() {
    return text("protocol");
  }

  public Integer upstreamStatus() {
    JsonNode n = json.get("upstreamStatus");
    return n != null && n.isInt() ? n.intValue() : null;
  }

  public long droppedCount() {
    return json.path("count").asLong(0);
  }

  /** {@code ip:port} the agent dialled, or null. */
  public String destination() {
    JsonNode d = json.get("destination");
    if (d == null || !d.isObject()) {
      return null;
    }
    String ip = d.path("ip").asText("");
    return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + d.path("port").asText("");
  }

  /** A top-level string field, or null when absent or not a string. */
  public String text(String field) {
    JsonNode n = json.get(field);
    return n != null && n.isTextual() ? n.textValue() : null;
  }
}
