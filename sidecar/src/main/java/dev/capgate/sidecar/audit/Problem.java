package dev.capgate.sidecar.audit;

/**
 * The kinds of error the sidecar answers the agent with, as RFC 9457 problem types: each has its
 * {@code type} URI, {@code title} and HTTP {@code status}. A bounded set, so an agent (or a person)
 * can branch on {@code type} while {@code error} and {@code detail} say what happened this time.
 * The type URIs are tag URIs (RFC 4151): stable names, never fetched; docs/audit.md lists them.
 */
public enum Problem {
  /** No rule of the session's policy allows the request (or the connection). */
  DENIED(403, "denied", "Denied by the session's policy"),
  /** The session is unknown, deleted, expired or out of reach: everything is denied. */
  NO_VALID_POLICY(403, "no-valid-policy", "No valid session policy"),
  /** A placeholder credential where it may not go: a likely exfiltration attempt. */
  PLACEHOLDER_EXFILTRATION(
      403, "placeholder-exfiltration", "Placeholder credential where it may not go"),
  /** Something like a placeholder while the placeholders cannot be read: refused to be safe. */
  PLACEHOLDERS_UNAVAILABLE(403, "placeholders-unavailable", "Placeholders cannot be checked"),
  /** A method or URL override header, which would let the upstream act on what policy never saw. */
  OVERRIDE_HEADER(403, "override-header", "Method or URL override header refused"),
  /**
   * An AWS request the sidecar will not re-sign: not signed with the placeholder keys, tampered
   * with, or a form it does not carry (presigned URL, signed streaming chunks).
   */
  AWS_SIGNATURE_REFUSED(403, "aws-signature-refused", "AWS signature refused"),
  /** Over a rule's or the session's requests per second: try again after Retry-After. */
  RATE_LIMITED(429, "rate-limited", "Rate limit reached"),
  /** As many requests in flight as a rule or the session allows: try again after Retry-After. */
  CONCURRENCY_LIMITED(429, "concurrency-limited", "Too many requests in flight"),
  /** A rule's or the session's request or byte budget is used up for the session's lifetime. */
  BUDGET_EXHAUSTED(403, "budget-exhausted", "Budget used up"),
  /** A person rejected the request its rule held for approval. */
  APPROVAL_REJECTED(403, "approval-rejected", "Rejected by the approver"),
  /** Nobody decided on the held request within its rule's approval timeout. */
  APPROVAL_TIMED_OUT(403, "approval-timed-out", "No approval in time"),
  /**
   * The held request could not be put before a person: the API server out of reach, or too many
   * requests of this pod already waiting.
   */
  APPROVAL_UNAVAILABLE(503, "approval-unavailable", "Approval cannot be asked for"),
  /** Malformed or ambiguous HTTP, or something the sidecar does not carry. */
  BAD_REQUEST(400, "bad-request", "Malformed or ambiguous request"),
  /** The rule's credential could not be obtained (Vault, the operator, the session's grant). */
  CREDENTIAL_UNAVAILABLE(503, "credential-unavailable", "Credential unavailable"),
  /** The upstream (or the upstream proxy) could not be reached. */
  UPSTREAM_UNREACHABLE(502, "upstream-unreachable", "Upstream unreachable"),
  /** The upstream did not answer in time. */
  UPSTREAM_TIMEOUT(504, "upstream-timeout", "Upstream timed out"),
  /** The upstream closed the connection before it answered. */
  UPSTREAM_CLOSED(502, "upstream-closed", "Upstream closed the connection"),
  /** The sidecar's own TLS handshake with the upstream failed (certificate, mutual TLS, ...). */
  UPSTREAM_TLS_HANDSHAKE_FAILED(
      502, "upstream-tls-handshake-failed", "TLS handshake with the upstream failed"),
  /** The upstream's response body is compressed in a way the credential scrubber cannot read. */
  UNSCANNABLE_RESPONSE_ENCODING(
      502, "unscannable-response-encoding", "Response encoding the sidecar cannot scan");

  /** The common prefix of every type URI. */
  public static final String TYPE_PREFIX = "tag:capgate.dev,2026:problem:";

  private final int status;
  private final String token;
  private final String title;
  private final String type;

  Problem(int status, String token, String title) {
    this.status = status;
    this.token = token;
    this.title = title;
    this.type = TYPE_PREFIX + token;
  }

  public int status() {
    return status;
  }

  /** The last segment of the type URI, as the audit reasons and docs name it. */
  public String token() {
    return token;
  }

  public String title() {
    return title;
  }

  public String type() {
    return type;
  }

  /** The problem of an upstream failure named by its audit token. */
  public static Problem upstream(String why) {
    return switch (why) {
      case "upstream-timeout" -> UPSTREAM_TIMEOUT;
      case "upstream-closed" -> UPSTREAM_CLOSED;
      default -> UPSTREAM_UNREACHABLE;
    };
  }

  /** The problem of a placeholder refusal: exfiltration, or placeholders that cannot be read. */
  public static Problem placeholder(boolean exfiltration) {
    return exfiltration ? PLACEHOLDER_EXFILTRATION : PLACEHOLDERS_UNAVAILABLE;
  }
}
