package dev.capgate.api.v1alpha1;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The whole validation of a session spec, for the operator (status) and the sidecar (which refuses
 * to enforce a policy it cannot trust: fail closed). The CRD's CEL rules reject most of this at
 * apply time already; this also covers what CEL cannot check (CIDR syntax, path-pattern shape,
 * duplicate names) and specs written before a rule existed.
 */
public final class AgentSessionValidator {
  static final Duration MAX_TTL = Duration.ofHours(720);

  private final List<Violation> violations = new ArrayList<>();

  private AgentSessionValidator() {}

  public static List<Violation> validate(AgentSessionSpec spec) {
    AgentSessionValidator v = new AgentSessionValidator();
    if (spec == null) {
      v.add("spec", "is required");
    } else {
      v.check(spec);
    }
    return List.copyOf(v.violations);
  }

  private void check(AgentSessionSpec spec) {
    if (spec.user() == null || spec.user().isBlank()) {
      add("spec.user", "is required");
    }
    if (spec.agent() == null || !spec.agent().matches(Patterns.NAME)) {
      add("spec.agent", "must be a DNS label (lower-case letters, digits, '-')");
    }
    if (spec.project() != null && !spec.project().matches(Patterns.NAME)) {
      add("spec.project", "must be a DNS label");
    }
    if (spec.ttl() != null) {
      checkTtl(spec.ttl());
    }
    Set<String> credentials = checkCredentials(spec);
    if (!spec.credentialsOrEmpty().isEmpty()
        && (spec.vault() == null || blank(spec.vault().role()))) {
      add("spec.vault.role", "is required when spec.credentials are declared");
    }
    checkEgress(spec.egress(), credentials);
  }

  private void checkTtl(String ttl) {
    try {
      Duration d = Durations.parse(ttl);
      if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(MAX_TTL) > 0) {
        add("spec.ttl", "must be between 1s and 720h");
      }
    } catch (IllegalArgumentException e) {
      add("spec.ttl", e.getMessage());
    }
  }

  private Set<String> checkCredentials(AgentSessionSpec spec) {
    Set<String> names = new HashSet<>();
    Set<String> placeholders = new HashSet<>();
    List<Credential> credentials = spec.credentialsOrEmpty();
    for (int i = 0; i < credentials.size(); i++) {
      Credential c = credentials.get(i);
      String at = "spec.credentials[" + i + "]";
      if (c.name() == null || !c.name().matches(Patterns.NAME)) {
        add(at + ".name", "must be a DNS label");
      } else if (!names.add(c.name())) {
        add(at + ".name", "duplicate credential name '" + c.name() + "'");
      }
      checkVaultSecret(at + ".vault", c.vault());
      checkInjection(at + ".inject", c.inject());
      if (c.placeholder() != null) {
        String env = c.placeholder().env();
        if (env == null || !env.matches(Patterns.ENV)) {
          add(at + ".placeholder.env", "must be an environment variable name");
        } else if (!placeholders.add(env)) {
          add(at + ".placeholder.env", "duplicate placeholder variable '" + env + "'");
        }
      }
    }
    return names;
  }

  private void checkVaultSecret(String at, VaultSecret s) {
    if (s == null) {
      add(at, "is required");
      return;
    }
    if (s.path() == null || !s.path().matches(Patterns.VAULT_PATH)) {
      add(at + ".path", "must be a Vault path such as secret/data/github/{{user}}");
    }
    if (s.engineOrDefault() != VaultEngine.IDENTITY_TOKEN && blank(s.field())) {
      add(at + ".field", "is required for kv2 and dynamic secrets");
    }
  }

  private void checkInjection(String at, Injection in) {
    if (in == null || in.type() == null) {
      add(at + ".type", "is required (bearer, basic or header)");
      return;
    }
    if (in.type() == InjectionType.HEADER
        && (in.header() == null || !in.header().matches(Patterns.HEADER))) {
      add(at + ".header", "is required when type is header and must be a header name");
    }
    if (in.template() != null) {
      if (in.type() != InjectionType.HEADER) {
        add(at + ".template", "applies to type header only");
      } else if (!in.template().contains("{{value}}")) {
        add(at + ".template", "must contain {{value}}");
      }
    }
  }

  private void checkEgress(List<EgressRule> egress, Set<String> credentials) {
    if (egress == null || egress.isEmpty()) {
      add("spec.egress", "at least one rule is required (no rule would deny everything)");
      return;
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < egress.size(); i++) {
      EgressRule r = egress.get(i);
      String at = "spec.egress[" + i + "]";
      if (r.name() == null || !r.name().matches(Patterns.NAME)) {
        add(at + ".name", "must be a DNS label");
      } else if (!names.add(r.name())) {
        add(at + ".name", "duplicate rule name '" + r.name() + "'");
      }
      checkRule(at, r, credentials);
    }
  }

  private void checkRule(String at, EgressRule r, Set<String> credentials) {
    boolean byHost = r.hosts() != null && !r.hosts().isEmpty();
    boolean byAddress = r.cidrs() != null && !r.cidrs().isEmpty();
    if (byHost == byAddress) {
      add(at, "a rule names either hosts or cidrs, not both and not neither");
    }
    if (byHost) {
      r.hosts()
          .forEach(
              h -> {
                if (h == null || !h.matches(Patterns.HOST) || h.length() > 253) {
                  add(
                      at + ".hosts",
                      "'" + h + "' is not a lower-case host name or *.domain pattern");
                }
              });
    }
    if (byAddress) {
      r.cidrs().forEach(c -> checkCidr(at + ".cidrs", c));
      if (r.ports() == null || r.ports().isEmpty()) {
        add(at + ".ports", "are required for cidrs rules");
      }
      if (!r.credentialNames().isEmpty()
          || r.methods() != null
          || r.paths() != null
          || r.tls() != null) {
        add(at + ".cidrs", "cidrs rules allow raw TCP only: no credential, methods, paths or tls");
      }
    }
    if (r.ports() != null) {
      r.ports()
          .forEach(
              p -> {
                if (p == null || p < 1 || p > 65535) {
                  add(at + ".ports", "'" + p + "' is not a port");
                }
              });
    }
    if (r.paths() != null) {
      r.paths().forEach(p -> checkPathPattern(at + ".paths", p));
    }
    if (r.credential() != null && r.credentials() != null) {
      add(
          at + ".credentials",
          "name one credential with credential, or several with credentials, not both");
    }
    String field = r.credentials() != null ? ".credentials" : ".credential";
    r.credentialNames().stream()
        .filter(name -> !credentials.contains(name))
        .forEach(name -> add(at + field, "'" + name + "' is not declared in spec.credentials"));
    if (r.credentials() != null && r.credentials().size() != Set.copyOf(r.credentials()).size()) {
      add(at + ".credentials", "names a credential twice");
    }
    if (r.tlsOrDefault() == TlsMode.PASSTHROUGH
        && (!r.credentialNames().isEmpty() || r.methods() != null || r.paths() != null)) {
      add(at + ".tls", "passthrough traffic is not decrypted: no credential, methods or paths");
    }
    if (r.git() != null) {
      checkGit(at + ".git", r);
    }
  }

  private void checkGit(String at, EgressRule r) {
    if (r.hosts() == null || r.tlsOrDefault() == TlsMode.PASSTHROUGH) {
      add(at, "git push rules need decrypted HTTP: a hosts rule without tls: passthrough");
    }
    if (r.git().refs() == null || r.git().refs().isEmpty()) {
      add(at + ".refs", "name at least one ref pattern, e.g. refs/heads/agent/**");
      return;
    }
    for (String ref : r.git().refs()) {
      if (ref == null || !ref.matches(Patterns.GIT_REF) || ref.length() > 255) {
        add(
            at + ".refs",
            "'" + ref + "' is not a ref pattern under refs/, e.g. refs/heads/agent/**");
        continue;
      }
      for (String segment : ref.split("/", -1)) {
        if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
          add(at + ".refs", "'" + ref + "' has an empty or dot segment");
        } else if (segment.contains("*") && !segment.equals("*") && !segment.equals("**")) {
          add(at + ".refs", "'" + ref + "': * and ** must stand for a whole segment");
        }
      }
    }
  }

  private void checkPathPattern(String at, String p) {
    if (p == null || !p.matches(Patterns.PATH)) {
      add(at, "'" + p + "' must be an absolute path pattern");
      return;
    }
    for (String segment : p.substring(1).split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        add(
            at,
            "'" + p + "' must not contain dot-segments (requests are matched after normalization)");
      } else if (segment.contains("*") && !segment.equals("*") && !segment.equals("**")) {
        add(at, "'" + p + "': * and ** must stand for a whole segment");
      }
    }
  }

  private void checkCidr(String at, String cidr) {
    String[] parts = cidr == null ? new String[0] : cidr.split("/", -1);
    try {
      if (parts.length != 2 || !parts[0].matches("[0-9a-fA-F:.]+")) {
        throw new IllegalArgumentException();
      }
      InetAddress address = InetAddress.ofLiteral(parts[0]);
      int prefix = Integer.parseInt(parts[1]);
      if (prefix < 0 || prefix > address.getAddress().length * 8) {
        throw new IllegalArgumentException();
      }
    } catch (IllegalArgumentException e) {
      add(at, "'" + cidr + "' is not an address range such as 10.0.0.5/32");
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private void add(String field, String message) {
    violations.add(new Violation(field, message));
  }
}
