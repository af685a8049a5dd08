package dev.capgate.sidecar.policy;

import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.AgentSessionValidator;
import dev.capgate.api.v1alpha1.Approval;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.EgressRule;
import dev.capgate.api.v1alpha1.Limits;
import dev.capgate.api.v1alpha1.Violation;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Immutable compiled view of one AgentSessionSpec. Thread-safe. Built once per spec change.
 *
 * <p>Rules are tried in spec order and the first that matches decides; nothing matching is a deny.
 * A connection is matched on (name, port) for host rules and (address, port) for cidrs rules. An
 * intercepted connection's requests are then matched one by one, again in order, on host, port,
 * method and path, among intercept rules only: a passthrough rule allows bytes it never sees, so it
 * never allows a decrypted request. This is the same outcome as first-match over whole requests,
 * since a passthrough rule that came first would have taken the connection. Passthrough rules apply
 * to TLS with a SNI name only, never to plaintext HTTP, and a rule with a credential never allows a
 * plaintext request.
 */
public final class Policy {
  private final SessionIdentity session;
  private final CompiledRule[] rules;

  /** The rules by name: what a request's admission looks up again once a rule allowed it. */
  private final Map<String, CompiledRule> rulesByName;

  private final Map<String, Credential> credentials;
  private final List<String> interceptedHostPatterns;
  private final Map<String, Limits> ruleLimits;
  private final Limits sessionLimits;

  /** Learn mode ({@code spec.mode: Audit}). */
  private final boolean audits;

  private Policy(
      SessionIdentity session,
      CompiledRule[] rules,
      Map<String, Credential> credentials,
      Map<String, Limits> ruleLimits,
      Limits sessionLimits,
      boolean audits) {
    this.session = session;
    this.audits = audits;
    this.rules = rules;
    Map<String, CompiledRule> byName = new java.util.HashMap<>();
    for (CompiledRule r : rules) {
      byName.putIfAbsent(r.name, r); // the first rule of a name, as a scan in order would find
    }
    // A HashMap answers null for a null name (a learn-mode would-deny has no rule); Map.copyOf's
    // maps would throw.
    this.rulesByName = java.util.Collections.unmodifiableMap(byName);
    this.credentials = credentials;
    this.ruleLimits = ruleLimits;
    this.sessionLimits = sessionLimits;
    Set<String> intercepted = new LinkedHashSet<>();
    for (CompiledRule r : rules) {
      if (r.isInterceptRule()) {
        intercepted.addAll(r.hostPatterns());
      }
    }
    this.interceptedHostPatterns = List.copyOf(intercepted);
  }

  /**
   * @throws InvalidPolicyException listing the violations: the sidecar then denies everything.
   */
  public static Policy compile(SessionIdentity session, AgentSessionSpec spec) {
    Objects.requireNonNull(session, "session");
    List<Violation> violations = new ArrayList<>(AgentSessionValidator.validate(spec));
    if (!violations.isEmpty()) {
      throw new InvalidPolicyException(violations);
    }
    List<EgressRule> egress = spec.egress();
    CompiledRule[] rules = new CompiledRule[egress.size()];
    for (int i = 0; i < rules.length; i++) {
      try {
        rules[i] = new CompiledRule(egress.get(i));
      } catch (IllegalArgumentException e) {
        violations.add(new Violation("spec.egress[" + i + "]", e.getMessage()));
      }
    }
    if (!violations.isEmpty()) {
      throw new InvalidPolicyException(violations);
    }
    Map<String, Credential> credentials = new HashMap<>();
    spec.credentialsOrEmpty().forEach(c -> credentials.put(c.name(), c));
    Map<String, Limits> ruleLimits = new LinkedHashMap<>();
    egress.stream()
        .filter(r -> r.limits() != null)
        .forEach(r -> ruleLimits.put(r.name(), r.limits()));
    return new Policy(
        session,
        rules,
        Map.copyOf(credentials),
        java.util.Collections.unmodifiableMap(ruleLimits),
        spec.limits(),
        spec.audits());
  }

  /** The limits of the rules that have some ({@code spec.egress[].limits}), by rule name. */
  public Map<String, Limits> ruleLimits() {
    return ruleLimits;
  }

  /** The session's own limits ({@code spec.limits}), or null. */
  public Limits sessionLimits() {
    return sessionLimits;
  }

  public SessionIdentity session() {
    return session;
  }

  /**
   * Learn mode: a connection or request host/method/path policy refuses is let through without any
   * credential and audited as would-deny (README "Learn mode"). What is still refused: a connection
   * that is neither TLS with a server name nor plaintext HTTP (raw TCP: an address is all an audit
   * line could show, and it would open the cluster's own services), and everything the other
   * defences refuse (placeholders, override headers, git push rules, local addresses).
   */
  public boolean audits() {
    return audits;
  }

  /**
   * The git push rules of the rule named {@code rule} (the one that allowed a request), or null
   * when it has none: a push it allowed then goes upstream unread.
   */
  public PushRules gitPush(String rule) {
    CompiledRule r = rulesByName.get(rule);
    return r == null ? null : r.gitPush;
  }

  /**
   * The MCP rules of the rule named {@code rule} (the one that allowed a request), or null when it
   * has none: MCP messages it allowed then go upstream unread.
   */
  public McpRules mcp(String rule) {
    CompiledRule r = rulesByName.get(rule);
    return r == null ? null : r.mcp;
  }

  /**
   * The gRPC methods of the rule named {@code rule} (the one that allowed a request), or null when
   * it names none: gRPC calls it allowed then go upstream judged by path only.
   */
  public GrpcRules grpc(String rule) {
    CompiledRule r = rulesByName.get(rule);
    return r == null ? null : r.grpc;
  }

  /**
   * The approval the rule named {@code rule} requires before a request it allowed goes on, or null
   * when it requires none.
   */
  public Approval approval(String rule) {
    CompiledRule r = rulesByName.get(rule);
    return r == null ? null : r.approval;
  }

  /**
   * A new connection.
   *
   * @param serverName TLS SNI, or the plaintext HTTP Host (no port), or null if neither could be
   *     read
   * @param destination SO_ORIGINAL_DST
   * @param kind what the peek saw
   */
  public ConnectionVerdict onConnection(
      String serverName, InetSocketAddress destination, ConnectionKind kind) {
    String name = kind == ConnectionKind.OTHER ? null : HostNames.normalize(serverName);
    InetAddress address = destination.getAddress();
    int port = destination.getPort();
    String plaintextPassthrough = null;
    for (CompiledRule rule : rules) {
      if (!rule.matchesPort(port)) {
        continue;
      }
      if (rule.isAddressRule()) {
        if (address != null && rule.matchesAddress(address)) {
          return rule.allowedConnection;
        }
      } else if (name != null && rule.matchesHost(name)) {
        if (!rule.passthrough) {
          return rule.interceptedConnection;
        }
        if (kind == ConnectionKind.TLS) {
          return rule.allowedConnection;
        }
        if (plaintextPassthrough == null) {
          plaintextPassthrough = rule.name;
        }
      }
    }
    String denial = connectionDenial(name, destination, kind, plaintextPassthrough);
    if (audits && name != null) {
      // TLS is spliced, not intercepted: the pod CA may sign only for the session's hosts
      // (invariant 8), so the agent would refuse a leaf for any other. Plaintext HTTP needs no
      // leaf: intercepted, its requests are judged (and let through) one by one.
      return kind == ConnectionKind.TLS
          ? new ConnectionVerdict(ConnectionAction.PASSTHROUGH, null, denial, true)
          : new ConnectionVerdict(ConnectionAction.INTERCEPT, null, denial, true);
    }
    return new ConnectionVerdict(ConnectionAction.DENY, null, denial);
  }

  private static String connectionDenial(
      String name,
      InetSocketAddress destination,
      ConnectionKind kind,
      String plaintextPassthrough) {
    if (plaintextPassthrough != null) {
      return "rule '" + plaintextPassthrough + "' allows TLS passthrough only, not plaintext HTTP";
    }
    String where =
        name != null
            ? name + ":" + destination.getPort()
            : destination.getHostString() + ":" + destination.getPort();
    if (kind == ConnectionKind.TLS && name == null) {
      return "no egress rule allows " + where + " (TLS without a usable SNI name)";
    }
    return "no egress rule allows " + where;
  }

  /**
   * One HTTP request (each keep-alive request / each h2 stream on its own), already normalized. A
   * rule with a credential never matches a plaintext request: the value would cross the network in
   * clear text, readable by anyone on the path.
   */
  public RequestVerdict onRequest(NormalizedRequest request) {
    boolean hostAllowed = false;
    String plaintextCredentialRule = null;
    for (CompiledRule rule : rules) {
      if (!rule.isInterceptRule()
          || !rule.matchesPort(request.port())
          || !rule.matchesHost(request.host())) {
        continue;
      }
      hostAllowed = true;
      if (rule.allowsMethod(request.method())
          && rule.allowsPath(request.path())
          && rule.allowsS3(request)) {
        if (rule.credentials.isEmpty() || request.tls()) {
          return rule.allowedRequest;
        }
        if (plaintextCredentialRule == null) {
          plaintextCredentialRule = rule.name;
        }
      }
    }
    String denial = requestDenial(request, hostAllowed, plaintextCredentialRule);
    return audits
        ? RequestVerdict.wouldDeny(denial)
        : new RequestVerdict(false, null, List.of(), denial);
  }

  private static String requestDenial(
      NormalizedRequest request, boolean hostAllowed, String plaintextCredentialRule) {
    if (plaintextCredentialRule != null) {
      return "rule '"
          + plaintextCredentialRule
          + "' injects a credential, which is never sent over plaintext HTTP: use https";
    }
    if (hostAllowed) {
      return "no egress rule for "
          + request.host()
          + " allows "
          + request.method()
          + " "
          + request.path();
    }
    return "no egress rule allows " + request.host() + ":" + request.port();
  }

  /**
   * DNS: may this name be answered (forwarded to the real resolver)? Others get NXDOMAIN. In learn
   * mode every well-formed name is answered: nothing could connect otherwise (placeholders in a
   * name are refused before this is asked).
   */
  public boolean allowsDnsName(String name) {
    String canonical = HostNames.normalize(name);
    if (canonical == null) {
      return false;
    }
    if (audits) {
      return true;
    }
    for (CompiledRule rule : rules) {
      if (rule.matchesHost(canonical)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Hosts (exact or *.suffix) of intercept rules, in spec order without repeats: the per-pod CA's
   * name constraints.
   */
  public List<String> interceptedHostPatterns() {
    return interceptedHostPatterns;
  }

  /** Whether any rule can need a credential (a session without credentials never asks Vault). */
  public boolean usesCredentials() {
    return !credentials.isEmpty();
  }

  /** A credential by name (for injection). */
  public Optional<Credential> credential(String name) {
    return Optional.ofNullable(name == null ? null : credentials.get(name));
  }

  /**
   * Whether the rule that allowed a request also allows the object it copies from ({@code
   * x-amz-copy-source: <bucket>/<key>}, CopyObject and UploadPartCopy): read access to the source
   * is judged as a GetObject of it, against the same rule's s3 buckets, key prefixes and actions.
   * Without this the copy would read, with the real keys, from a bucket the rule never allowed.
   *
   * @param copySource the header's value as sent (percent-encoded, optional leading slash and
   *     {@code ?versionId=})
   * @return true when the rule names no s3 operations (it judges no bucket)
   */
  public boolean allowsS3CopySource(String rule, String copySource) {
    CompiledRule r = rulesByName.get(rule);
    return r == null ? false : r.allowsS3CopySource(copySource);
  }
}
