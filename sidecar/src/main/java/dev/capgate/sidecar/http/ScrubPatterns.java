package dev.capgate.sidecar.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What the response scrubber looks for, compiled once and shared by every exchange that uses it
 * (immutable): every form ({@link SecretForms}) of every secret, and an automaton over the forms
 * that contain no other form (enough to tell whether a chunk needs masking, and which end of a
 * chunk could be the beginning of a secret).
 */
final class ScrubPatterns {
  /** Shorter secrets would mask ordinary text everywhere. */
  static final int SHORTEST_SECRET = 4;

  static final ScrubPatterns NONE = new ScrubPatterns(List.of());

  /** Longest first: where occurrences overlap, the longer one is masked whole. */
  final List<byte[]> all;

  final PatternAutomaton needles;
  final int longest;

  private ScrubPatterns(List<byte[]> all) {
    this.all = all;
    int max = 0;
    for (byte[] p : all) {
      max = Math.max(max, p.length);
    }
    this.longest = max;
    List<byte[]> minimal = new ArrayList<>();
    for (byte[] p : all) {
      boolean containsAnother = false;
      for (byte[] q : all) {
        if (q != p && q.length < p.length && indexOf(p, q) >= 0) {
          containsAnother = true;
          break;
        }
      }
      if (!containsAnother) {
        minimal.add(p);
      }
    }
    this.needles = minimal.isEmpty() ? null : new PatternAutomaton(minimal, false);
  }

  /** The secrets (raw values, rendered header values, ...) and all their encoded forms. */
  static ScrubPatterns of(Collection<String> secrets) {
    Set<String> distinct = new LinkedHashSet<>();
    for (String s : secrets) {
      if (s != null && s.length() >= SHORTEST_SECRET) {
        distinct.add(s);
      }
    }
    Set<String> forms = new LinkedHashSet<>();
    for (String s : distinct) {
      // "Bearer <value>", "key=<value>": masking the value masks them, and the agent still sees
      // which
      // header it was ("Bearer ****"). Their encoded forms contain the value's encoded forms.
      if (!containsAnother(s, distinct)) {
        forms.addAll(SecretForms.of(s));
      }
    }
    if (forms.isEmpty()) {
      return NONE;
    }
    List<byte[]> bytes = new ArrayList<>(forms.size());
    for (String f : forms) {
      bytes.add(f.getBytes(StandardCharsets.UTF_8));
    }
    bytes.sort((a, b) -> Integer.compare(b.length, a.length));
    return new ScrubPatterns(List.copyOf(bytes));
  }

  private static boolean containsAnother(String s, Set<String> secrets) {
    for (String other : secrets) {
      if (other.length() < s.length() && s.contains(other)) {
        return true;
      }
    }
    return false;
  }

  boolean isEmpty() {
    return needles == null;
  }

  /** Overwrites every occurrence of every form with {@code mask}; whether anything was found. */
  boolean mask(byte[] data, byte mask) {
    boolean found = false;
    for (byte[] p : all) {
      for (int i = 0; i + p.length <= data.length; i++) {
        if (regionMatches(data, i, p)) {
          java.util.Arrays.fill(data, i, i + p.length, mask);
          found = true;
          i += p.length - 1;
        }
      }
    }
    return found;
  }

  private static int indexOf(byte[] data, byte[] p) {
    for (int i = 0; i + p.length <= data.length; i++) {
      if (regionMatches(data, i, p)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean regionMatches(byte[] data, int at, byte[] p) {
    for (int j = 0; j < p.length; j++) {
      if (data[at + j] != p[j]) {
        return false;
      }
    }
    return true;
  }
}
