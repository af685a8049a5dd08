package dev.capgate.sidecar.policy;

import dev.capgate.api.v1alpha1.EgressRule;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.api.v1alpha1.TlsMode;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;

/**
 * One egress rule in the shape the hot path wants: arrays, precompiled patterns, and null for "any"
 * (methods, paths). Either a host rule (hosts, intercept or passthrough) or an address rule (cidrs,
 * raw TCP).
 */
final class CompiledRule {
  final String name;

  /** Names of the credentials this rule injects, in spec order; empty for none. */
  final List<String> credentials;

  final boolean passthrough;

  /** Verdicts are immutable: made once here, so that an allowed request allocates none. */
  final RequestVerdict allowedRequest;

  /** What a git push through this rule may change; null: pushes are not looked into. */
  final PushRules gitPush;

  final ConnectionVerdict allowedConnection;
  final ConnectionVerdict interceptedConnection;
  private final HostPattern[] hosts;
  private final AddressRange[] ranges;
  private final int[] ports;
  private final String[] methods;
  private final PathPattern[] paths;

  /**
   * @throws IllegalArgumentException naming what cannot be compiled
   */
  CompiledRule(EgressRule rule) {
    this.name = rule.name();
    this.credentials = List.copyOf(rule.credentialNames());
    this.passthrough = rule.tlsOrDefault() == TlsMode.PASSTHROUGH;
    this.hosts =
        rule.hosts() == null
            ? null
            : rule.hosts().stream().map(HostPattern::compile).toArray(HostPattern[]::new);
    this.ranges =
        rule.cidrs() == null
            ? null
            : rule.cidrs().stream().map(AddressRange::parse).toArray(AddressRange[]::new);
    this.ports = rule.portsOrDefault().stream().mapToInt(Integer::intValue).toArray();
    this.methods =
        rule.methods() == null
            ? null
            : rule.methods().stream().map(HttpMethod::name).toArray(String[]::new);
    this.paths =
        rule.paths() == null
            ? null
            : rule.paths().stream().map(PathPattern::compile).toArray(PathPattern[]::new);
    this.gitPush = rule.git() == null ? null : new PushRules(name, rule.git());
    this.allowedRequest =
        new RequestVerdict(true, name, credentials, "allowed by rule '" + name + "'");
    this.allowedConnection =
        ranges != null
            ? new ConnectionVerdict(
                ConnectionAction.TCP, name, "raw TCP allowed by rule '" + name + "'")
            : new ConnectionVerdict(
                ConnectionAction.PASSTHROUGH,
                name,
                "TLS passthrough allowed by rule '" + name + "'");
    this.interceptedConnection =
        new ConnectionVerdict(
            ConnectionAction.INTERCEPT, name, "intercepted for rule '" + name + "'");
  }

  boolean isAddressRule() {
    return ranges != null;
  }

  /** Intercept host rules are the only ones that can allow a decrypted request. */
  boolean isInterceptRule() {
    return hosts != null && !passthrough;
  }

  List<String> hostPatterns() {
    return hosts == null ? List.of() : Arrays.stream(hosts).map(HostPattern::toString).toList();
  }

  boolean matchesPort(int port) {
    for (int p : ports) {
      if (p == port) {
        return true;
      }
    }
    return false;
  }

  /**
   * @param host canonical host name
   */
  boolean matchesHost(String host) {
    if (hosts == null) {
      return false;
    }
    for (HostPattern h : hosts) {
      if (h.matches(host)) {
        return true;
      }
    }
    return false;
  }

  boolean matchesAddress(InetAddress address) {
    if (ranges == null) {
      return false;
    }
    for (AddressRange r : ranges) {
      if (r.contains(address)) {
        return true;
      }
    }
    return false;
  }

  boolean allowsMethod(String method) {
    if (methods == null) {
      return true;
    }
    for (String m : methods) {
      if (m.equals(method)) {
        return true;
      }
    }
    return false;
  }

  /**
   * @param path normalized path
   */
  boolean allowsPath(String path) {
    if (paths == null) {
      return true;
    }
    for (PathPattern p : paths) {
      if (p.matches(path)) {
        return true;
      }
    }
    return false;
  }
}
