package dev.capgate.api.v1alpha1;

/** Syntax shared by the CRD schema (OpenAPI patterns) and {@link AgentSessionValidator}. */
public final class Patterns {
  /** A DNS-1123 label: names of sessions' agents, credentials and rules. */
  public static final String NAME = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

  /** A lower-case host name, optionally with one leading wildcard label: {@code *.example.com}. */
  public static final String HOST =
      "^(\\*\\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

  /** An IPv4 or IPv6 CIDR, checked in depth by the validator. */
  public static final String CIDR = "^[0-9a-fA-F:.]+/[0-9]{1,3}$";

  /** An absolute path pattern: {@code *} matches one segment, {@code **} any number of segments. */
  public static final String PATH = "^/[A-Za-z0-9\\-._~!$&'()*+,;=:@/%]*$";

  /**
   * A git ref pattern under refs/: {@code *} matches one segment, {@code **} any number of
   * segments.
   */
  public static final String GIT_REF = "^refs/[A-Za-z0-9._@+#%=,*/-]+$";

  /** An MCP tool name: letters, digits, underscore, hyphen and dot. */
  public static final String MCP_TOOL = "^[A-Za-z0-9_.-]+$";

  /**
   * A gRPC method a rule names: {@code package.Service/Method}, or {@code package.Service/*} for
   * every method of the service (the service's full name, dots between its parts).
   */
  public static final String GRPC_METHOD =
      "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*/([A-Za-z_][A-Za-z0-9_]*|\\*)$";

  /** A non-empty JSON pointer (RFC 6901): {@code /a/b}, with ~0 and ~1 escapes. */
  public static final String JSON_POINTER = "^(/([^~/]|~[01])*)+$";

  /** A Go-style duration built from hours, minutes and seconds: 2h, 90m, 1h30m. */
  public static final String DURATION = "^([0-9]+(h|m|s))+$";

  /** An HTTP header name (RFC 9110 token). */
  public static final String HEADER = "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$";

  /** An environment variable name. */
  public static final String ENV = "^[A-Za-z_][A-Za-z0-9_]*$";

  /** A Vault role or mount name. */
  public static final String VAULT_NAME = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";

  /** A Vault API path, possibly templated with {{user}}, {{agent}}, {{session}}, {{namespace}}. */
  public static final String VAULT_PATH = "^[A-Za-z0-9_.{}@+-]+(/[A-Za-z0-9_.{}@+-]+)*$";

  /** An https URL (an OAuth token endpoint): scheme, a host, optionally a port, path and query. */
  public static final String HTTPS_URL = "^https://[^/?#\\s@]+(/[^#\\s]*)?$";

  /** An AWS region name, e.g. {@code us-east-1} (lower-case letters, digits, dashes). */
  public static final String AWS_REGION = "^[a-z0-9]+(-[a-z0-9]+)*$";

  /** An AWS service signing name, e.g. {@code s3}, {@code sts}, {@code execute-api}. */
  public static final String AWS_SERVICE = "^[a-z0-9]+(-[a-z0-9]+)*$";

  private Patterns() {}
}
