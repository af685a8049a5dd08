package dev.capgate.cli.learn;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Turns observed request paths into a few path patterns a person can review ({@code *}: one
 * segment, {@code **}: any tail, as spec.egress[].paths reads them):
 *
 * <ol>
 *   <li>a segment that looks like an id (a number, a hex object id or commit, a UUID, a long mix of
 *       letters and digits) becomes {@code *};
 *   <li>a path deeper than {@value #MAX_DEPTH} segments keeps its first {@value #KEPT_DEPTH} and
 *       ends in {@code **} (file trees, nested resources);
 *   <li>{@value #SIBLINGS} or more different last segments under the same parent become {@code
 *       parent/*};
 *   <li>more than {@value #MAX_PATTERNS} patterns left: the common prefix and {@code **}.
 * </ol>
 *
 * Every observed path matches one of the patterns returned (the test runs them through the
 * sidecar's own matcher). Literal segments are percent-encoded where the API's path grammar needs
 * it: audit lines carry decoded paths.
 */
public final class PathGeneralizer {
  static final int MAX_DEPTH = 6;
  static final int KEPT_DEPTH = 5;
  static final int SIBLINGS = 5;
  static final int MAX_PATTERNS = 10;

  private static final String ONE = "*";
  private static final String ANY = "**";

  private static final Pattern NUMBER = Pattern.compile("\\d+");
  private static final Pattern HEX = Pattern.compile("(?i)[0-9a-f]{7,}");
  private static final Pattern UUID =
      Pattern.compile("(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final Pattern LONG_MIX = Pattern.compile("[A-Za-z0-9_-]{16,}");

  private PathGeneralizer() {}

  /** The patterns for these paths, sorted; empty for none. */
  public static List<String> generalize(Collection<String> paths) {
    Set<List<String>> patterns = new java.util.LinkedHashSet<>();
    for (String path : paths) {
      patterns.add(shape(segments(path)));
    }
    List<List<String>> collapsed = collapseSiblings(new ArrayList<>(patterns));
    if (collapsed.size() > MAX_PATTERNS) {
      collapsed = List.of(commonPrefixAndTail(collapsed));
    }
    Set<String> out = new TreeSet<>();
    for (List<String> p : collapsed) {
      out.add(render(p));
    }
    return List.copyOf(out);
  }

  /** Whether a segment names one thing among many (an id), not a kind of thing. */
  static boolean looksLikeId(String segment) {
    if (NUMBER.matcher(segment).matches() || UUID.matcher(segment).matches()) {
      return true;
    }
    boolean digit = segment.chars().anyMatch(Character::isDigit);
    if (HEX.matcher(segment).matches() && digit) {
      return true;
    }
    boolean letter = segment.chars().anyMatch(Character::isLetter);
    return LONG_MIX.matcher(segment).matches() && digit && letter;
  }

  /** The path's segments; "/" has none, a trailing slash keeps its empty last segment. */
  private static List<String> segments(String path) {
    List<String> out = new ArrayList<>();
    if (path == null || path.isEmpty() || path.equals("/")) {
      return out;
    }
    String p = path.startsWith("/") ? path.substring(1) : path;
    int start = 0;
    while (true) {
      int slash = p.indexOf('/', start);
      if (slash < 0) {
        out.add(p.substring(start));
        return out;
      }
      out.add(p.substring(start, slash));
      start = slash + 1;
    }
  }

  private static List<String> shape(List<String> segments) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < segments.size(); i++) {
      if (segments.size() > MAX_DEPTH && i == KEPT_DEPTH) {
        out.add(ANY);
        return out;
      }
      String s = segments.get(i);
      out.add(!s.isEmpty() && looksLikeId(s) ? ONE : s);
    }
    return out;
  }

  private static List<List<String>> collapseSiblings(List<List<String>> patterns) {
    // The varying segment is the last non-empty one: /simple/a/ and /simple/b/ are siblings.
    Map<List<List<String>>, Set<String>> variants = new LinkedHashMap<>();
    for (List<String> p : patterns) {
      int at = varying(p);
      if (at >= 0) {
        variants.computeIfAbsent(around(p, at), k -> new TreeSet<>()).add(p.get(at));
      }
    }
    List<List<String>> out = new ArrayList<>();
    Set<List<String>> seen = new java.util.HashSet<>();
    for (List<String> p : patterns) {
      List<String> shaped = p;
      int at = varying(p);
      if (at >= 0 && variants.get(around(p, at)).size() >= SIBLINGS) {
        shaped = new ArrayList<>(p);
        shaped.set(at, ONE);
      }
      if (seen.add(shaped)) {
        out.add(shaped);
      }
    }
    return out;
  }

  /** The index of the last non-empty segment when it is a literal, else -1. */
  private static int varying(List<String> p) {
    int at = p.size() - 1;
    if (at >= 0 && p.get(at).isEmpty()) {
      at--;
    }
    return at >= 0 && isLiteral(p.get(at)) ? at : -1;
  }

  /** The segments before and after position {@code at}: what siblings share. */
  private static List<List<String>> around(List<String> p, int at) {
    return List.of(p.subList(0, at), p.subList(at + 1, p.size()));
  }

  private static boolean isLiteral(String segment) {
    return !segment.isEmpty() && !segment.equals(ONE) && !segment.equals(ANY);
  }

  private static List<String> commonPrefixAndTail(List<List<String>> patterns) {
    List<String> prefix = new ArrayList<>();
    for (int i = 0; ; i++) {
      String s = null;
      for (List<String> p : patterns) {
        // A wildcard matches more than its position: the prefix stops before one.
        if (i >= p.size() || !isLiteral(p.get(i)) || (s != null && !s.equals(p.get(i)))) {
          s = null;
          break;
        }
        s = p.get(i);
      }
      if (s == null) {
        break;
      }
      prefix.add(s);
    }
    prefix.add(ANY);
    return prefix;
  }

  private static String render(List<String> pattern) {
    if (pattern.isEmpty()) {
      return "/";
    }
    StringBuilder out = new StringBuilder();
    for (String s : pattern) {
      out.append('/').append(s.equals(ONE) || s.equals(ANY) ? s : encode(s));
    }
    return out.toString();
  }

  /**
   * A literal segment in the path grammar (spec.egress[].paths): unreserved and sub-delimiters
   * stay, {@code *} is encoded (it would read as a wildcard), everything else is UTF-8
   * percent-encoded.
   */
  static String encode(String segment) {
    StringBuilder out = new StringBuilder();
    for (byte b : segment.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || "-._~!$&'()+,;=:@".indexOf(c) >= 0) {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }
}
