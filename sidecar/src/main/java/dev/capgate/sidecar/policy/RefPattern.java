package dev.capgate.sidecar.policy;

/**
 * A ref pattern of {@code git.refs}: segments separated by {@code /}, each a literal (compared
 * exactly), {@code *} (exactly one non-empty segment) or {@code **} (zero or more segments). The
 * same language as rule paths, applied to ref names.
 */
final class RefPattern {
  private final String pattern;
  private final String[] segments;

  private RefPattern(String pattern) {
    this.pattern = pattern;
    this.segments = pattern.split("/", -1);
  }

  /**
   * @param pattern a ref pattern already checked by the validator
   */
  static RefPattern compile(String pattern) {
    if (pattern == null || !pattern.startsWith("refs/")) {
      throw new IllegalArgumentException("'" + pattern + "' is not a ref pattern under refs/");
    }
    return new RefPattern(pattern);
  }

  boolean matches(String ref) {
    return matches(segments, 0, ref.split("/", -1), 0);
  }

  // Refs are short (a handful of segments) and patterns checked: plain recursion is enough here.
  private static boolean matches(String[] pattern, int p, String[] ref, int r) {
    if (p == pattern.length) {
      return r == ref.length;
    }
    String segment = pattern[p];
    if (segment.equals("**")) {
      for (int skip = r; skip <= ref.length; skip++) {
        if (matches(pattern, p + 1, ref, skip)) {
          return true;
        }
      }
      return false;
    }
    if (r == ref.length || ref[r].isEmpty()) {
      return false;
    }
    return (segment.equals("*") || segment.equals(ref[r])) && matches(pattern, p + 1, ref, r + 1);
  }

  @Override
  public String toString() {
    return pattern;
  }
}
