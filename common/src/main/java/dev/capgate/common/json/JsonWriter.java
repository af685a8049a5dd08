package dev.capgate.common.json;

/**
 * The one JSON writer for lines: the sidecar's audit lines and the agent's error bodies, and the
 * log lines of both deployables ({@code JsonLogFormatter}) go through it, so they escape alike. A
 * tiny JSON object writer for one-line records, appending to a caller's {@link StringBuilder}
 * without any intermediate buffer or generator (it runs on event loops for every request). Strings
 * are escaped so that the output is valid JSON on a single line for any input: quotes, backslashes,
 * every control character, DEL, the JavaScript line separators U+2028/U+2029, and lone surrogates
 * (which would otherwise turn into '?' or invalid UTF-8) are written as escapes.
 */
public final class JsonWriter {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private final StringBuilder out;
  private boolean first = true;

  /** Starts an object in {@code out}; {@link #end()} closes it. */
  public JsonWriter(StringBuilder out) {
    this.out = out;
    out.append('{');
  }

  /** Writes the member unless the value is null. */
  public JsonWriter field(String name, String value) {
    if (value != null) {
      name(name);
      quote(out, value);
    }
    return this;
  }

  /** Writes the member, as JSON null when the value is null. */
  public JsonWriter fieldOrNull(String name, String value) {
    name(name);
    if (value == null) {
      out.append("null");
    } else {
      quote(out, value);
    }
    return this;
  }

  /** Writes the member unless the value is null. */
  public JsonWriter field(String name, Long value) {
    if (value != null) {
      name(name);
      out.append(value.longValue());
    }
    return this;
  }

  /**
   * Starts an object member; write its fields on the returned writer and {@link #end()} it before
   * writing more fields here.
   */
  public JsonWriter object(String name) {
    name(name);
    return new JsonWriter(out);
  }

  public void end() {
    out.append('}');
  }

  private void name(String name) {
    if (!first) {
      out.append(',');
    }
    first = false;
    quote(out, name);
    out.append(':');
  }

  static void quote(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || c == 0x7F || c == '\u2028' || c == '\u2029' || isLoneSurrogate(s, i)) {
            unicodeEscape(out, c);
          } else {
            out.append(c);
            if (Character.isHighSurrogate(c)) {
              out.append(s.charAt(++i));
            }
          }
        }
      }
    }
    out.append('"');
  }

  private static boolean isLoneSurrogate(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
    }
    return Character.isLowSurrogate(c);
  }

  private static void unicodeEscape(StringBuilder out, char c) {
    out.append("\\u")
        .append(HEX[c >> 12 & 0xF])
        .append(HEX[c >> 8 & 0xF])
        .append(HEX[c >> 4 & 0xF])
        .append(HEX[c & 0xF]);
  }
}
