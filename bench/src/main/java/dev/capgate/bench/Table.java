package dev.capgate.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table: a title, a header row, rows of cells, columns as wide as their widest cell.
 */
final class Table {
  private final String title;
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  Table(String title, String... header) {
    this.title = title;
    this.header = List.of(header);
  }

  Table row(Object... cells) {
    List<String> r = new ArrayList<>();
    for (Object c : cells) {
      r.add(c == null ? "—" : c.toString());
    }
    rows.add(r);
    return this;
  }

  Table note(String note) {
    notes.add(note);
    return this;
  }

  String render() {
    int[] width = new int[header.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = header.get(i).codePointCount(0, header.get(i).length());
      for (List<String> r : rows) {
        if (i < r.size()) {
          width[i] = Math.max(width[i], r.get(i).codePointCount(0, r.get(i).length()));
        }
      }
    }
    StringBuilder out = new StringBuilder();
    out.append('\n').append(title).append('\n');
    line(out, header, width);
    StringBuilder rule = new StringBuilder();
    for (int i = 0; i < width.length; i++) {
      rule.append(i == 0 ? "" : "-+-").append("-".repeat(width[i]));
    }
    out.append(rule).append('\n');
    for (List<String> r : rows) {
      line(out, r, width);
    }
    for (String n : notes) {
      out.append("  ").append(n).append('\n');
    }
    return out.toString();
  }

  /** The same table as GitHub Markdown (README). */
  String markdown() {
    StringBuilder out = new StringBuilder();
    out.append("| ").append(String.join(" | ", header)).append(" |\n");
    out.append("|").append(" --- |".repeat(header.size())).append('\n');
    for (List<String> r : rows) {
      out.append("| ").append(String.join(" | ", r)).append(" |\n");
    }
    return out.toString();
  }

  String title() {
    return title;
  }

  private static void line(StringBuilder out, List<String> cells, int[] width) {
    for (int i = 0; i < width.length; i++) {
      String c = i < cells.size() ? cells.get(i) : "";
      int pad = width[i] - c.codePointCount(0, c.length());
      if (i > 0) {
        out.append(" | ");
      }
      // Numbers right-aligned, text left-aligned.
      boolean numeric =
          !c.isEmpty()
              && (Character.isDigit(c.charAt(0)) || c.charAt(0) == '+' || c.charAt(0) == '-')
              && i > 0;
      out.append(numeric ? " ".repeat(pad) + c : c + " ".repeat(pad));
    }
    out.append('\n');
  }
}
