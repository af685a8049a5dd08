package dev.capgate.cli.learn;

import dev.capgate.cli.audit.AuditLine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a learn session's would-deny audit lines (README "Learn mode") ask for, as egress rules: one
 * group per host, and in it one rule per set of methods, with the paths those methods were seen on
 * generalized by {@link PathGeneralizer}. A TLS connection to a host no rule named was spliced, not
 * read: its rule names the host only. Never a credential: the person reviewing adds those.
 *
 * <p>Only lines refused for want of a rule ({@code no egress rule ...}) become rules; other
 * would-deny reasons (a credential rule's host in plaintext) are counted as {@link #skipped}, since
 * a rule that allowed them would be the wrong fix.
 */
public final class RuleSuggestions {
  private static final String NO_RULE = "no egress rule";
  private static final Set<Integer> DEFAULT_PORTS = Set.of(443, 80);

  /** One suggested rule. {@code methods} and {@code paths} empty: any (a spliced host). */
  public record Rule(
      String name,
      String host,
      List<Integer> ports,
      List<String> methods,
      List<String> paths,
      long seen,
      String example) {}

  /** What one host was seen doing. */
  private static final class HostActivity {
    final Set<Integer> ports = new TreeSet<>();
    final Map<String, Set<String>> pathsByMethod = new TreeMap<>();
    long requests;
    long splices;
    String example;
  }

  private final List<Rule> rules;
  private final long wouldDeny;
  private final List<String> skipped;

  private RuleSuggestions(List<Rule> rules, long wouldDeny, List<String> skipped) {
    this.rules = rules;
    this.wouldDeny = wouldDeny;
    this.skipped = skipped;
  }

  /** From audit lines of any decisions; only would-deny lines count. */
  public static RuleSuggestions of(List<AuditLine> lines) {
    Map<String, HostActivity> hosts = new TreeMap<>();
    long wouldDeny = 0;
    List<String> skipped = new ArrayList<>();
    for (AuditLine line : lines) {
      if (!"would-deny".equals(line.decision()) || line.host() == null) {
        continue;
      }
      wouldDeny++;
      String reason = line.reason() == null ? "" : line.reason();
      if (!reason.startsWith(NO_RULE)) {
        skipped.add(describe(line) + ": " + reason);
        continue;
      }
      HostActivity h = hosts.computeIfAbsent(line.host(), k -> new HostActivity());
      Integer port = port(line);
      if (port != null) {
        h.ports.add(port);
      }
      if ("http.request".equals(line.type()) && line.method() != null && line.path() != null) {
        h.requests++;
        h.pathsByMethod.computeIfAbsent(line.method(), k -> new TreeSet<>()).add(line.path());
        if (h.example == null) {
          h.example = line.method() + " " + line.path();
        }
      } else if ("connection".equals(line.type())) {
        h.splices++;
      }
    }
    List<Rule> rules = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>();
    hosts.forEach((host, h) -> rules.addAll(rulesFor(host, h, names)));
    return new RuleSuggestions(List.copyOf(rules), wouldDeny, List.copyOf(skipped));
  }

  private static List<Rule> rulesFor(String host, HostActivity h, Set<String> names) {
    List<Integer> ports = DEFAULT_PORTS.containsAll(h.ports) ? List.of() : List.copyOf(h.ports);
    if (h.pathsByMethod.isEmpty()) {
      // Only spliced TLS: the methods and paths were never seen.
      return List.of(
          new Rule(unique(slug(host), names), host, ports, List.of(), List.of(), h.splices, null));
    }
    // Path pattern -> the methods seen on it; then one rule per set of methods.
    Map<String, Set<String>> methodsByPattern = new TreeMap<>();
    h.pathsByMethod.forEach(
        (method, paths) -> {
          for (String pattern : PathGeneralizer.generalize(paths)) {
            methodsByPattern.computeIfAbsent(pattern, k -> new TreeSet<>()).add(method);
          }
        });
    Map<Set<String>, List<String>> patternsByMethods = new LinkedHashMap<>();
    methodsByPattern.forEach(
        (pattern, methods) ->
            patternsByMethods.computeIfAbsent(methods, k -> new ArrayList<>()).add(pattern));
    List<Rule> out = new ArrayList<>();
    boolean several = patternsByMethods.size() > 1;
    patternsByMethods.forEach(
        (methods, patterns) -> {
          String base = slug(host) + (several ? "-" + String.join("-", methods) : "");
          long seen =
              methods.stream()
                  .mapToLong(
                      m ->
                          h.pathsByMethod.get(m).stream()
                              .filter(p -> patterns.stream().anyMatch(x -> covers(x, p)))
                              .count())
                  .sum();
          out.add(
              new Rule(
                  unique(base.toLowerCase(java.util.Locale.ROOT), names),
                  host,
                  ports,
                  List.copyOf(methods),
                  List.copyOf(patterns),
                  seen,
                  exampleFor(h, methods, patterns)));
        });
    return out;
  }

  private static String exampleFor(HostActivity h, Set<String> methods, List<String> patterns) {
    for (String m : methods) {
      for (String p : h.pathsByMethod.get(m)) {
        if (patterns.stream().anyMatch(x -> covers(x, p))) {
          return m + " " + p;
        }
      }
    }
    return h.example;
  }

  /**
   * A rough match for counting and examples (the sidecar's matcher is the judge; the tests use it):
   * segments compared with {@code *} and a trailing {@code **}.
   */
  static boolean covers(String pattern, String path) {
    String[] pat = pattern.equals("/") ? new String[0] : pattern.substring(1).split("/", -1);
    String[] seg = path.equals("/") ? new String[0] : path.substring(1).split("/", -1);
    for (int i = 0; i < pat.length; i++) {
      if (pat[i].equals("**")) {
        return true;
      }
      if (i >= seg.length) {
        return false;
      }
      if (!pat[i].equals("*") && !pat[i].equals(PathGeneralizer.encode(seg[i]))) {
        return false;
      }
    }
    return pat.length == seg.length;
  }

  private static Integer port(AuditLine line) {
    var d = line.json().get("destination");
    return d != null && d.path("port").isInt() ? d.path("port").intValue() : null;
  }

  private static String describe(AuditLine line) {
    return line.method() != null && line.path() != null
        ? line.method() + " " + line.host() + line.path()
        : line.host();
  }

  /** A DNS label from a host name: {@code api.github.com} → {@code api-github-com}. */
  static String slug(String host) {
    String s = host.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    s = s.replaceAll("^-+|-+$", "");
    if (s.length() > 50) {
      s = s.substring(0, 50).replaceAll("-+$", "");
    }
    return s.isEmpty() ? "learned" : s;
  }

  private static String unique(String base, Set<String> names) {
    String name = base;
    for (int i = 2; !names.add(name); i++) {
      name = base + "-" + i;
    }
    return name;
  }

  public List<Rule> rules() {
    return rules;
  }

  /** The would-deny lines read (those turned into rules and those skipped). */
  public long wouldDeny() {
    return wouldDeny;
  }

  /** Would-deny lines no rule should allow, each with its reason. */
  public List<String> skipped() {
    return skipped;
  }
}
