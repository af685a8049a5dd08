package dev.capgate.cli.status;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What {@code status} shows of one AgentSession, read from its JSON rather than the Java types: a
 * field the operator adds later ({@code status.activity}, {@code status.lastRecovery}) is shown by
 * an older plugin, and one it has not added yet is simply absent.
 */
public record SessionSummary(JsonNode session) {
  public String name() {
    return session.path("metadata").path("name").asText("");
  }

  public String namespace() {
    return session.path("metadata").path("namespace").asText("");
  }

  public String user() {
    return text(session.path("spec").path("user"));
  }

  public String agent() {
    return text(session.path("spec").path("agent"));
  }

  /** Learn mode (spec.mode Audit): what policy would refuse goes out, without credentials. */
  public boolean learning() {
    return "Audit".equals(session.path("spec").path("mode").asText(null));
  }

  public String phase() {
    return text(status().path("phase"));
  }

  public String expiresAt() {
    return text(status().path("expiresAt"));
  }

  public String podsCount() {
    JsonNode n = status().path("pods");
    return n.isNumber() ? n.asText() : "-";
  }

  public boolean deleting() {
    return session.path("metadata").hasNonNull("deletionTimestamp");
  }

  /** A condition by type, or a missing node. */
  public JsonNode condition(String type) {
    for (JsonNode c : status().path("conditions")) {
      if (type.equals(c.path("type").asText())) {
        return c;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  /** {@code True}, {@code False (Reason)} or {@code -}. */
  public String ready() {
    JsonNode ready = condition("Ready");
    if (ready.isMissingNode()) {
      return "-";
    }
    String status = ready.path("status").asText("-");
    String reason = ready.path("reason").asText("");
    return "True".equals(status) || reason.isEmpty() ? status : status + " (" + reason + ")";
  }

  public String lastRecovery() {
    return text(status().path("lastRecovery"));
  }

  /** {@code status.activity}, flattened to {@code key: value} pairs; empty when absent. */
  public List<Map.Entry<String, String>> activity() {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    flatten("", status().path("activity"), out);
    return out;
  }

  /** One short cell for the list: denials and last activity when the status carries them. */
  public String activityCell(Instant now) {
    JsonNode a = status().path("activity");
    if (!a.isObject()) {
      return "-";
    }
    List<String> parts = new ArrayList<>();
    if (a.has("requests")) {
      parts.add(a.path("requests").asText() + " req");
    }
    if (a.has("denials")) {
      parts.add(a.path("denials").asText() + " denied");
    }
    String last = a.path("lastActivity").asText(null);
    if (last != null) {
      parts.add("last " + age(last, now));
    }
    return parts.isEmpty() ? "-" : String.join(", ", parts);
  }

  /** {@code 5m ago} for an RFC 3339 instant (the text as is if it is not one). */
  public static String age(String instant, Instant now) {
    try {
      Duration d = Duration.between(Instant.parse(instant), now);
      String ago = d.isNegative() ? "in " : "";
      String suffix = d.isNegative() ? "" : " ago";
      d = d.abs();
      String amount;
      if (d.toDays() > 0) {
        amount = d.toDays() + "d" + (d.toHoursPart() > 0 ? d.toHoursPart() + "h" : "");
      } else if (d.toHours() > 0) {
        amount = d.toHours() + "h" + (d.toMinutesPart() > 0 ? d.toMinutesPart() + "m" : "");
      } else if (d.toMinutes() > 0) {
        amount = d.toMinutes() + "m";
      } else {
        amount = d.toSeconds() + "s";
      }
      return ago + amount + suffix;
    } catch (DateTimeParseException e) {
      return instant;
    }
  }

  private JsonNode status() {
    return session.path("status");
  }

  private static void flatten(String prefix, JsonNode node, List<Map.Entry<String, String>> out) {
    if (node.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        flatten(prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey(), f.getValue(), out);
      }
    } else if (node.isArray()) {
      out.add(Map.entry(prefix, node.toString()));
    } else if (!node.isMissingNode() && !node.isNull()) {
      out.add(Map.entry(prefix, node.asText()));
    }
  }

  private static String text(JsonNode n) {
    return n.isValueNode() && !n.asText().isEmpty() ? n.asText() : "-";
  }
}
