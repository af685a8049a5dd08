package dev.capgate.sidecar.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * A rule's path pattern, compiled once. Segments are literals (percent-decoded like request paths,
 * compared exactly and case-sensitively), {@code *} (exactly one non-empty segment) or {@code **}
 * (zero or more segments, of any content). Matching walks the normalized path in place with the
 * classic single-backtrack glob algorithm: no allocation, O(segments × pattern) at worst.
 */
final class PathPattern {
  private static final String ONE = new String("*");
  private static final String ANY = new String("**");

  private final String pattern;

  /** Literal segments, or the {@link #ONE} / {@link #ANY} sentinels compared by identity. */
  private final String[] segments;

  private PathPattern(String pattern, String[] segments) {
    this.pattern = pattern;
    this.segments = segments;
  }

  /**
   * @param pattern a path of spec.egress[].paths, already checked by the validator
   * @throws IllegalArgumentException when a literal segment is not a valid encoded segment
   */
  static PathPattern compile(String pattern) {
    List<String> segments = new ArrayList<>();
    int start = 1;
    while (true) {
      int end = pattern.indexOf('/', start);
      boolean last = end < 0;
      if (last) {
        end = pattern.length();
      }
      String raw = pattern.substring(start, end);
      if (raw.equals("**")) {
        // "**/**" matches what "**" matches; collapsing keeps the matcher linear.
        if (segments.isEmpty() || segments.getLast() != ANY) {
          segments.add(ANY);
        }
      } else if (raw.equals("*")) {
        segments.add(ONE);
      } else {
        try {
          segments.add(PathNormalizer.decodeSegment(pattern, start, end, new StringBuilder()));
        } catch (RejectedRequestException e) {
          throw new IllegalArgumentException(
              "'"
                  + pattern
                  + "' has a segment that is not valid percent-encoding ("
                  + e.reason()
                  + ")");
        }
      }
      if (last) {
        return new PathPattern(pattern, segments.toArray(String[]::new));
      }
      start = end + 1;
    }
  }

  /**
   * @param path a normalized path (starts with '/')
   */
  boolean matches(String path) {
    int length = path.length();
    int p = 0;
    int pos = 1;
    int starP = -1;
    int starPos = -1;
    while (pos <= length) {
      int end = segmentEnd(path, pos);
      String s = p < segments.length ? segments[p] : null;
      if (s == ANY) {
        starP = p++;
        starPos = pos;
      } else if (s != null && segmentMatches(s, path, pos, end)) {
        p++;
        pos = end + 1;
      } else if (starP >= 0) {
        // Let the last ** swallow one more segment and retry what follows it.
        p = starP + 1;
        starPos = segmentEnd(path, starPos) + 1;
        pos = starPos;
      } else {
        return false;
      }
    }
    while (p < segments.length && segments[p] == ANY) {
      p++;
    }
    return p == segments.length;
  }

  private static int segmentEnd(String path, int from) {
    int end = path.indexOf('/', from);
    return end < 0 ? path.length() : end;
  }

  private static boolean segmentMatches(String segment, String path, int from, int end) {
    if (segment == ONE) {
      return end > from;
    }
    return segment.length() == end - from && path.regionMatches(from, segment, 0, segment.length());
  }

  @Override
  public String toString() {
    return pattern;
  }
}
