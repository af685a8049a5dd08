package dev.capgate.sidecar.policy;

/**
 * A rule's host: an exact name, or {@code *.suffix}. The wildcard stands for <b>one or more</b>
 * labels ({@code *.example.com} matches {@code a.example.com} and {@code a.b.example.com}), as an
 * X.509 name constraint for {@code .example.com} does, and never the bare {@code example.com}.
 * Names given to {@link #matches} are already canonical ({@link HostNames#normalize}), so a suffix
 * test is exact and allocation-free.
 */
final class HostPattern {
  private final String pattern;
  private final String exact;
  private final String dotSuffix;

  private HostPattern(String pattern, String exact, String dotSuffix) {
    this.pattern = pattern;
    this.exact = exact;
    this.dotSuffix = dotSuffix;
  }

  /**
   * @param pattern a host of spec.egress[].hosts, already checked against Patterns.HOST
   */
  static HostPattern compile(String pattern) {
    if (pattern.startsWith("*.")) {
      return new HostPattern(pattern, null, pattern.substring(1));
    }
    return new HostPattern(pattern, pattern, null);
  }

  /**
   * @param name a canonical host name
   */
  boolean matches(String name) {
    if (exact != null) {
      return exact.equals(name);
    }
    // A canonical name neither starts with a dot nor has an empty label, so a name ending in
    // ".example.com" has at least one whole label before it, and "example.com" does not end so.
    return name.endsWith(dotSuffix);
  }

  @Override
  public String toString() {
    return pattern;
  }
}
