package dev.capgate.sidecar.credentials;

import dev.capgate.api.sidecar.PlaceholderFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pod's placeholder credentials (issue 8; format: {@link PlaceholderFormat}): for a credential
 * declared with {@code placeholder: {env: NAME}}, the webhook sets {@code
 * NAME=capgate-ph-<credential>-<random>} in agent containers and writes {@code {"<credential>":
 * "<placeholder>"}} into {@code placeholders.json} of the sidecar-only CA directory. The data plane
 * swaps a placeholder for the real value in request headers on the routes of its credential, and
 * treats it anywhere else as a likely exfiltration attempt.
 *
 * <p>Three states: none (no file, or {@code {}}): nothing to look for, no cost; loaded; or
 * unreadable (fail closed): then anything that looks like a placeholder ({@code capgate-ph-…}) is
 * refused wherever it appears, since the sidecar cannot tell which credential it stands for.
 *
 * <p>Matching ignores ASCII letter case (a placeholder is lower-case base32 and a credential name,
 * so an upper-cased copy is still that placeholder); only an exact copy is ever replaced.
 */
public final class Placeholders {
  /** What every placeholder starts with ({@link PlaceholderFormat#PREFIX}). */
  static final String PREFIX = PlaceholderFormat.PREFIX;

  private static final Placeholders NONE = new Placeholders(Map.of(), null);

  /** Credential name → placeholder, in file order. */
  private final Map<String, String> byCredential;

  private final String problem;
  private final String[] credentials;
  private final String[] values;

  private Placeholders(Map<String, String> byCredential, String problem) {
    this.byCredential = byCredential;
    this.problem = problem;
    this.credentials = byCredential.keySet().toArray(String[]::new);
    this.values = byCredential.values().toArray(String[]::new);
  }

  /** A placeholder occurrence: whose it is, and where it sits in the text searched. */
  public record Match(
      String credential /* null when the file was unreadable */,
      int start,
      int end,
      boolean exact) {}

  public static Placeholders none() {
    return NONE;
  }

  /**
   * @param byCredential credential name → placeholder value
   */
  public static Placeholders of(Map<String, String> byCredential) {
    if (byCredential.isEmpty()) {
      return NONE;
    }
    PlaceholderFormat.checkWellFormed(byCredential);
    return new Placeholders(
        java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byCredential)), null);
  }

  /** Everything that looks like a placeholder is refused: the file could not be read. */
  public static Placeholders unreadable(String problem) {
    return new Placeholders(Map.of(), problem);
  }

  /**
   * Reads {@code placeholders.json}. Never throws: a missing file means no placeholders; a file
   * that cannot be read or parsed means {@link #unreadable} (fail closed).
   */
  public static Placeholders load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      return NONE;
    } catch (IOException | RuntimeException e) {
      return unreadable("cannot read " + file + ": " + e.getClass().getSimpleName());
    }
    try {
      return of(PlaceholderFormat.parseJson(text));
    } catch (IllegalArgumentException e) {
      return unreadable(file + ": " + e.getMessage());
    }
  }

  /** Nothing to look for: the data plane skips every placeholder check. */
  public boolean isEmpty() {
    return problem == null && values.length == 0;
  }

  /** Why the file could not be used; empty when it could (or there is none). */
  public Optional<String> problem() {
    return Optional.ofNullable(problem);
  }

  /** The placeholder of {@code credential}, if it has one. */
  public Optional<String> placeholderOf(String credential) {
    return Optional.ofNullable(byCredential.get(credential));
  }

  /** Credential names that have a placeholder, in file order. */
  public List<String> credentials() {
    return List.of(credentials);
  }

  /**
   * The byte patterns a body scanner looks for, lower-case: every placeholder, or only the prefix
   * when the file was unreadable. Index {@code i} belongs to {@link #patternCredential(int)}.
   */
  public List<byte[]> patterns() {
    if (problem != null) {
      return List.of(PREFIX.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
    List<byte[]> out = new ArrayList<>(values.length);
    for (String v : values) {
      out.add(v.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
    return out;
  }

  /** The credential of pattern {@code i} (null when the file was unreadable). */
  public String patternCredential(int i) {
    return problem != null ? null : credentials[i];
  }

  /** The first placeholder in {@code text} from {@code from} on, or null. */
  public Match find(CharSequence text, int from) {
    if (isEmpty() || text == null) {
      return null;
    }
    int n = text.length();
    int at = from;
    while ((at = indexOfPrefix(text, at, n)) >= 0) {
      if (problem != null) {
        return new Match(null, at, at + PREFIX.length(), false);
      }
      for (int i = 0; i < values.length; i++) {
        String v = values[i];
        if (at + v.length() <= n && regionMatchesIgnoreCase(text, at, v)) {
          return new Match(credentials[i], at, at + v.length(), regionMatches(text, at, v));
        }
      }
      at++;
    }
    return null;
  }

  /** The first placeholder anywhere in {@code text}, or null. */
  public Match find(CharSequence text) {
    return find(text, 0);
  }

  /**
   * {@code text} with every placeholder replaced by {@code [placeholder:<credential>]}: for a host
   * name that carries one (SNI, DNS) in audit lines and error bodies. Not for secrecy (a
   * placeholder is worthless outside its pod) but for readable logs that never repeat what the
   * agent smuggled.
   */
  public String redact(String text) {
    Match m = find(text);
    if (m == null) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    int copied = 0;
    while (m != null) {
      out.append(text, copied, m.start())
          .append("[placeholder:")
          .append(m.credential() == null ? "unknown" : m.credential())
          .append(']');
      copied = m.end();
      m = find(text, copied);
    }
    return out.append(text, copied, text.length()).toString();
  }

  private static int indexOfPrefix(CharSequence text, int from, int n) {
    int last = n - PREFIX.length();
    for (int i = from; i <= last; i++) {
      char c = text.charAt(i);
      if ((c == 'c' || c == 'C') && regionMatchesIgnoreCase(text, i, PREFIX)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean regionMatchesIgnoreCase(CharSequence text, int at, String lower) {
    for (int j = 0; j < lower.length(); j++) {
      char c = text.charAt(at + j);
      if (c >= 'A' && c <= 'Z') {
        c = (char) (c + 32);
      }
      if (c != lower.charAt(j)) {
        return false;
      }
    }
    return true;
  }

  private static boolean regionMatches(CharSequence text, int at, String value) {
    for (int j = 0; j < value.length(); j++) {
      if (text.charAt(at + j) != value.charAt(j)) {
        return false;
      }
    }
    return true;
  }

  /** Names only, never placeholder values. */
  @Override
  public String toString() {
    return problem != null
        ? "Placeholders[unreadable: " + problem + "]"
        : "Placeholders" + byCredential.keySet();
  }
}
