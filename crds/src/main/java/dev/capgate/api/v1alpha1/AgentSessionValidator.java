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
  static final Duration MAX_AUDIT_TTL = Duration.ofHours(24);

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
    if (spec.audits()) {
      checkAuditTtl(spec.ttl());
    }
    Set<String> credentials = checkCredentials(spec);
    if (!spec.credentialsOrEmpty().isEmpty()
        && (spec.vault() == null || blank(spec.vault().role()))) {
      add("spec.vault.role", "is required when spec.credentials are declared");
    }
    checkEgress(spec.egress(), credentials);
    if (spec.limits() != null) {
      checkLimits("spec.limits", spec.limits());
    }
  }

  private void checkLimits(String at, Limits l) {
    if (l.requestsPerSecond() == null
        && l.maxConcurrent() == null
        && l.maxRequests() == null
        && l.maxBytes() == null) {
      add(at, "set requestsPerSecond, maxConcurrent, maxRequests or maxBytes");
    }
    within(at + ".requestsPerSecond", l.requestsPerSecond(), Limits.MAX_RATE);
    within(at + ".burst", l.burst(), Limits.MAX_BURST);
    within(at + ".maxConcurrent", l.maxConcurrent(), Limits.MAX_CONCURRENT);
    within(at + ".maxRequests", l.maxRequests(), Limits.MAX_REQUESTS);
    within(at + ".maxBytes", l.maxBytes(), Limits.MAX_BYTES);
    if (l.burst() != null) {
      if (l.requestsPerSecond() == null) {
        add(at + ".burst", "applies to requestsPerSecond, which is not set");
      } else if (l.burst() < l.requestsPerSecond()) {
        add(at + ".burst", "must be at least requestsPerSecond");
      }
    }
  }

  private void within(String at, Number value, double max) {
    if (value != null && (value.longValue() < 1 || value.doubleValue() > max)) {
      add(at, "must be between 1 and " + (long) max);
    }
  }

  /** Learn mode opens egress to any host: only for a short, bounded session (the CRD's CEL too). */
  private void checkAuditTtl(String ttl) {
    if (ttl == null) {
      add(
          "spec.ttl",
          "is required with spec.mode Audit (at most 24h): learn mode lets any host through");
      return;
    }
    try {
      if (Durations.parse(ttl).compareTo(MAX_AUDIT_TTL) > 0) {
        add(
            "spec.ttl",
            "must be at most 24h with spec.mode Audit: learn mode lets any host through");
      }
    } catch (IllegalArgumentException e) {
      // checkTtl names it
    }
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
    int awsCredentials = 0;
    for (int i = 0; i < credentials.size(); i++) {
      Credential c = credentials.get(i);
      String at = "spec.credentials[" + i + "]";
      if (c.name() == null || !c.name().matches(Patterns.NAME)) {
        add(at + ".name", "must be a DNS label");
      } else if (!names.add(c.name())) {
        add(at + ".name", "duplicate credential name '" + c.name() + "'");
      }
      checkSource(at, c);
      if (c.awsSigV4() != null) {
        if (++awsCredentials > 1) {
          add(at + ".awsSigV4", "at most one awsSigV4 credential per session");
        }
        if (c.inject() != null) {
          add(at + ".inject", "an awsSigV4 credential re-signs requests: no inject");
        }
        if (c.placeholder() != null) {
          add(
              at + ".placeholder",
              "an awsSigV4 credential's placeholders are AWS_ACCESS_KEY_ID and"
                  + " AWS_SECRET_ACCESS_KEY: no placeholder");
        }
        for (String env :
            List.of(
                AwsSigV4Credential.ACCESS_KEY_ID_ENV, AwsSigV4Credential.SECRET_ACCESS_KEY_ENV)) {
          if (!placeholders.add(env)) {
            add(at + ".awsSigV4", "duplicate placeholder variable '" + env + "'");
          }
        }
      } else {
        checkInjection(at + ".inject", c.inject());
      }
      if (c.placeholder() != null) {
        String env = c.placeholder().env();
        if (env == null || !env.matches(Patterns.ENV)) {
          add(at + ".placeholder.env", "must be an environment variable name");
        } else if (!placeholders.add(env)) {
          add(at + ".placeholder.env", "duplicate placeholder variable '" + env + "'");
        }
      }
    }
    checkSubjects(credentials);
    return names;
  }

  /** Exactly one source of the value; a new kind adds one term to the count, as in the CEL rule. */
  private void checkSource(String at, Credential c) {
    int kinds =
        (c.vault() != null ? 1 : 0)
            + (c.githubApp() != null ? 1 : 0)
            + (c.oauth() != null ? 1 : 0)
            + (c.awsSigV4() != null ? 1 : 0);
    if (kinds != 1) {
      add(at, "a credential has exactly one kind: vault, githubApp, oauth or awsSigV4");
      return;
    }
    if (c.vault() != null) {
      checkVaultSecret(at + ".vault", c.vault());
    } else if (c.githubApp() != null) {
      checkGitHubApp(at + ".githubApp", c.githubApp());
    } else if (c.oauth() != null) {
      checkOAuth(at + ".oauth", c.oauth());
    } else {
      checkAws(at + ".awsSigV4", c.awsSigV4());
    }
  }

  private void checkGitHubApp(String at, GitHubAppCredential app) {
    if (app.appId() == null || app.appId() < 1) {
      add(at + ".appId", "is required (the App's numeric id)");
    }
    if (app.installationId() == null || app.installationId() < 1) {
      add(at + ".installationId", "is required (the installation's numeric id)");
    }
    if (app.privateKey() == null
        || app.privateKey().path() == null
        || !app.privateKey().path().matches(Patterns.VAULT_PATH)) {
      add(at + ".privateKey.path", "must be a Vault KV v2 path such as secret/data/github-app");
    }
    if (app.apiUrl() != null && !app.apiUrl().matches(GitHubAppCredential.API_URL)) {
      add(at + ".apiUrl", "must be an https URL such as https://api.github.com");
    }
    List<String> repositories = app.repositoriesOrEmpty();
    if (repositories.size() > 100) {
      add(at + ".repositories", "at most 100 repositories (GitHub's limit per token)");
    }
    for (int i = 0; i < repositories.size(); i++) {
      String r = repositories.get(i);
      if (r == null || !r.matches(GitHubAppCredential.REPOSITORY)) {
        add(at + ".repositories[" + i + "]", "must be a repository name without owner");
      }
    }
    app.permissionsOrEmpty()
        .forEach(
            (name, level) -> {
              if (name == null || !name.matches(GitHubAppCredential.PERMISSION)) {
                add(at + ".permissions", "'" + name + "' is not a GitHub permission name");
              } else if (level == null) {
                add(at + ".permissions." + name, "must be read or write");
              }
            });
  }

  private void checkOAuth(String at, OAuthCredential o) {
    if (o.tokenUrl() == null || !o.tokenUrl().matches(Patterns.HTTPS_URL)) {
      add(at + ".tokenUrl", "must be an https:// URL");
    }
    if (blank(o.clientId())) {
      add(at + ".clientId", "is required");
    }
    if (o.clientSecret() != null) {
      checkKvSecret(at + ".clientSecret", o.clientSecret());
    }
    if ((o.refreshToken() == null) == (o.tokenExchange() == null)) {
      add(at, "exactly one of refreshToken or tokenExchange is required");
    }
    if (o.refreshToken() != null) {
      checkKvSecret(at + ".refreshToken", o.refreshToken());
    }
    TokenExchange x = o.tokenExchange();
    if (x != null) {
      if (x.subjectCredential() == null || !x.subjectCredential().matches(Patterns.NAME)) {
        add(at + ".tokenExchange.subjectCredential", "must name a credential of the session");
      }
      if (x.resource() != null && x.resource().stream().anyMatch(r -> !r.startsWith("https://"))) {
        add(at + ".tokenExchange.resource", "resource entries must be https:// URIs");
      }
    }
  }

  private void checkKvSecret(String at, VaultField s) {
    if (s.path() == null || !s.path().matches(Patterns.VAULT_PATH)) {
      add(at + ".path", "must be a Vault path such as secret/data/oauth/{{user}}");
    }
  }

  /**
   * A token exchange's subject is another credential of the session that is not itself an exchange:
   * one hop, so no chain and no cycle.
   */
  private void checkSubjects(List<Credential> credentials) {
    for (int i = 0; i < credentials.size(); i++) {
      Credential c = credentials.get(i);
      if (c.oauth() == null || c.oauth().tokenExchange() == null) {
        continue;
      }
      String subject = c.oauth().tokenExchange().subjectCredential();
      String at = "spec.credentials[" + i + "].oauth.tokenExchange.subjectCredential";
      Credential target =
          credentials.stream()
              .filter(d -> d.name() != null && d.name().equals(subject))
              .findFirst()
              .orElse(null);
      if (target == null || target == c) {
        add(at, "must name another credential of the session");
      } else if (target.oauth() != null && target.oauth().tokenExchange() != null) {
        add(at, "must not name a tokenExchange credential (one exchange, no chains)");
      }
    }
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

  private void checkAws(String at, AwsSigV4Credential aws) {
    AwsVaultKeys keys = aws.vault();
    if (keys == null) {
      add(at + ".vault", "is required");
    } else {
      if (keys.path() == null || !keys.path().matches(Patterns.VAULT_PATH)) {
        add(at + ".vault.path", "must be a Vault path such as secret/data/aws/{{user}}");
      }
      if (keys.engineOrDefault() == VaultEngine.IDENTITY_TOKEN) {
        add(at + ".vault.engine", "AWS keys are read from a kv2 or dynamic secret");
      }
    }
    if (aws.region() == null || !aws.region().matches(Patterns.AWS_REGION)) {
      add(at + ".region", "must be an AWS region such as us-east-1");
    }
    if (aws.service() != null && !aws.service().matches(Patterns.AWS_SERVICE)) {
      add(at + ".service", "must be an AWS service signing name such as s3");
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
    if (r.s3() != null) {
      if (r.hosts() == null || r.tlsOrDefault() == TlsMode.PASSTHROUGH) {
        add(at + ".s3", "s3 operations apply to a hosts rule that is not passthrough");
      }
      if (r.s3().actions() != null) {
        r.s3().actions().stream()
            .filter(a -> !S3Operations.ACTIONS.contains(a))
            .forEach(a -> add(at + ".s3.actions", "unknown S3 action '" + a + "'"));
      }
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
    if (r.mcp() != null) {
      checkMcp(at + ".mcp", r);
    }
    if (r.grpc() != null) {
      checkGrpc(at + ".grpc", r);
    }
    if (r.limits() != null) {
      if (r.hosts() == null || r.tlsOrDefault() == TlsMode.PASSTHROUGH) {
        add(at + ".limits", "limits count HTTP requests: a hosts rule without tls: passthrough");
      }
      checkLimits(at + ".limits", r.limits());
    }
    if (r.approval() != null) {
      checkApproval(at + ".approval", r);
    }
  }

  private void checkGrpc(String at, EgressRule r) {
    if (r.hosts() == null || r.tlsOrDefault() == TlsMode.PASSTHROUGH) {
      add(at, "grpc methods are judged on decrypted HTTP/2: a hosts rule without tls: passthrough");
    }
    List<String> methods = r.grpc().methods();
    if (methods == null || methods.isEmpty()) {
      add(at + ".methods", "name at least one method, e.g. package.Service/Method");
      return;
    }
    for (int i = 0; i < methods.size(); i++) {
      String m = methods.get(i);
      if (m == null || m.length() > 256 || !m.matches(Patterns.GRPC_METHOD)) {
        add(at + ".methods[" + i + "]", "package.Service/Method or package.Service/*");
      }
    }
  }

  private void checkMcp(String at, EgressRule r) {
    McpTools mcp = r.mcp();
    if (r.hosts() == null || r.tlsOrDefault() == TlsMode.PASSTHROUGH) {
      add(at, "mcp rules need decrypted HTTP: a hosts rule without tls: passthrough");
    }
    if (mcp.endpoint() != null) {
      checkPathPattern(at + ".endpoint", mcp.endpoint());
    }
    if (mcp.tools() == null || mcp.tools().isEmpty()) {
      add(at + ".tools", "name at least one tool the agent may call");
      return;
    }
    Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < mcp.tools().size(); i++) {
      McpTool tool = mcp.tools().get(i);
      String t = at + ".tools[" + i + "]";
      if (tool == null || tool.name() == null || !tool.name().matches(Patterns.MCP_TOOL)) {
        add(t + ".name", "a tool name is letters, digits, _, - and .");
        continue;
      }
      if (!seen.add(tool.name())) {
        add(t + ".name", "'" + tool.name() + "' is named twice");
      }
      if (tool.arguments() != null) {
        for (int j = 0; j < tool.arguments().size(); j++) {
          checkArgumentMatch(t + ".arguments[" + j + "]", tool.arguments().get(j));
        }
      }
    }
  }

  private void checkArgumentMatch(String at, ArgumentMatch m) {
    if (m == null || m.pointer() == null || !m.pointer().matches(Patterns.JSON_POINTER)) {
      add(at + ".pointer", "a JSON pointer into params.arguments, e.g. /repo");
      return;
    }
    int kinds =
        (m.equalTo() != null ? 1 : 0)
            + (m.oneOf() != null ? 1 : 0)
            + (m.glob() != null ? 1 : 0)
            + (m.regex() != null ? 1 : 0);
    if (kinds != 1) {
      add(at, "an argument condition has exactly one of equals, oneOf, glob or regex");
    }
    if (m.regex() != null) {
      try {
        java.util.regex.Pattern.compile(m.regex());
      } catch (java.util.regex.PatternSyntaxException e) {
        add(
            at + ".regex",
            "'" + m.regex() + "' is not a regular expression: " + e.getDescription());
      }
    }
  }

  /** The approval block's CEL rules, for lint and the sidecar (a file-mode session too). */
  private void checkApproval(String at, EgressRule r) {
    if (r.hosts() == null || r.tlsOrDefault() == TlsMode.PASSTHROUGH) {
      add(at, "approval holds HTTP requests: a hosts rule without tls: passthrough");
    }
    if (r.approval().required() == null) {
      add(at + ".required", "required: true or false");
    }
    String timeout = r.approval().timeout();
    if (timeout != null) {
      try {
        Duration d = Durations.parse(timeout);
        if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofHours(1)) > 0) {
          add(at + ".timeout", "approval.timeout must be a duration between 1s and 1h, e.g. 5m");
        }
      } catch (IllegalArgumentException e) {
        add(at + ".timeout", e.getMessage());
      }
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
