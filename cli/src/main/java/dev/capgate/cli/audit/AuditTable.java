package dev.capgate.cli.audit;

import dev.capgate.cli.text.Columns;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** The human form of audit lines: one row each, columns as wide as their widest cell. */
public final class AuditTable {
  /** The column names, in order. */
  public static final List<String> HEADER =
      List.of(
          "TIME",
          "POD",
          "REQUEST-ID",
          "DECISION",
          "REQUEST",
          "RULE",
          "CREDENTIAL",
          "STATUS",
          "REASON");

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

  private AuditTable() {}

  /** The header and one row per line, aligned; the reason (the last column) is not padded. */
  public static String format(List<AuditLine> lines) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(HEADER);
    lines.forEach(l -> rows.add(row(l)));
    return Columns.align(rows);
  }

  /** One line as a row, without padding (also what {@code --follow} prints, line by line). */
  public static String formatRow(AuditLine line) {
    return String.join("  ", row(line));
  }

  static List<String> row(AuditLine l) {
    String time = TIME.format(l.ts());
    if (l.isDroppedNotice()) {
      return List.of(
          time,
          l.pod(),
          "-",
          "dropped",
          "-",
          "-",
          "-",
          "-",
          l.droppedCount() + " audit lines lost");
    }
    Integer status = l.upstreamStatus();
    return List.of(
        time,
        or(l.pod()),
        or(l.requestId()),
        or(l.decision()),
        request(l),
        or(l.rule()),
        or(l.credential()),
        status == null ? "-" : status.toString(),
        or(l.reason()));
  }

  /** {@code METHOD host/path} for requests and DNS; {@code host (ip:port)} for connections. */
  static String request(AuditLine l) {
    String host = l.host();
    if ("connection".equals(l.type()) || "tls.handshake".equals(l.type())) {
      String destination = l.destination();
      String what = l.protocol() == null ? l.type() : l.protocol();
      if (host == null) {
        return what + " " + or(destination);
      }
      return what + " " + host + (destination == null ? "" : " (" + destination + ")");
    }
    StringBuilder b = new StringBuilder();
    if (l.method() != null) {
      b.append(l.method()).append(' ');
    }
    b.append(or(host));
    if (l.path() != null) {
      b.append(l.path());
    }
    return b.toString();
  }

  private static String or(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }
}
