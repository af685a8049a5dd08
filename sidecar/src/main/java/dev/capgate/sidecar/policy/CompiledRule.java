package dev.capgate.sidecar.policy;

import dev.capgate.api.v1alpha1.Approval;
import dev.capgate.api.v1alpha1.EgressRule;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.api.v1alpha1.S3Operations;
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

  /** The MCP tools a call through this rule may use; null: MCP messages are not looked into. */
  final McpRules mcp;

  /** The gRPC methods a call through this rule may invoke; null: calls judged by path only. */
  final GrpcRules grpc;

  /** The rule's approval, when it requires one; null: requests go on without a person. */
  final Approval approval;

  final ConnectionVerdict allowedConnection;
  final ConnectionVerdict interceptedConnection;
  private final HostPattern[] hosts;
  private final AddressRange[] ranges;
  private final int[] ports;
  private final String[] methods;
  private final PathPattern[] paths;

  /** The rule's S3 operations (null lists: any); null when the rule names none. */
  private final S3Operations s3;

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
    this.s3 = rule.s3();
    this.gitPush = rule.git() == null ? null : new PushRules(name, rule.git());
    this.mcp = rule.mcp() == null ? null : new McpRules(name, rule.mcp());
    this.grpc = rule.grpc() == null ? null : new GrpcRules(name, rule.grpc());
    this.approval = rule.approvalRequired() ? rule.approval() : null;
    if (approval != null) {
      approval.timeoutOrDefault(); // a malformed timeout fails the compile, not a request
    }
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

  /** Whether the S3 operation the request performs is one the rule allows (no s3: any). */
  boolean allowsS3(NormalizedRequest request) {
    if (s3 == null) {
      return true;
    }
    S3Request op = S3Request.of(request);
    if (s3.actions() != null && !s3.actions().contains(op.action())) {
      return false;
    }
    if (s3.buckets() != null && (op.bucket() == null || !s3.buckets().contains(op.bucket()))) {
      return false;
    }
    if (s3.keyPrefixes() != null) {
      String key =
          op.key() != null
              ? op.key()
              : op.action().equals("ListBucket")
                  ? (op.listPrefix() == null ? "" : op.listPrefix())
                  : null;
      if (key != null && s3.keyPrefixes().stream().noneMatch(key::startsWith)) {
        return false;
      }
    }
    return true;
  }

  boolean allowsS3CopySource(String copySource) {
    if (s3 == null) {
      return true;
    }
    String source = copySource.strip();
    int q = source.indexOf('?');
    if (q >= 0) {
      source = source.substring(0, q);
    }
    source =
        java.net.URLDecoder.decode(
            source.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
    if (source.startsWith("/")) {
      source = source.substring(1);
    }
    int slash = source.indexOf('/');
    if (slash <= 0 || slash == source.length() - 1) {
      return false; // not bucket/key: refuse rather than guess
    }
    String bucket = source.substring(0, slash);
    String key = source.substring(slash + 1);
    return (s3.actions() == null || s3.actions().contains("GetObject"))
        && (s3.buckets() == null || s3.buckets().contains(bucket))
        && (s3.keyPrefixes() == null || s3.keyPrefixes().stream().anyMatch(key::startsWith));
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
