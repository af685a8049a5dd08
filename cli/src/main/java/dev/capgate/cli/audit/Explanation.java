package dev.capgate.cli.audit;

import dev.capgate.sidecar.audit.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Why the sidecar decided what an audit line records, in words: the rule, the reason, and the RFC
 * 9457 problem type the agent was answered with (docs/audit.md, "Errors the agent sees"), with what
 * to do about it. The problem types are the sidecar's own {@link Problem}; the line does not carry
 * its type, so it is read back from the decision, the record type and the reason's stable token
 * (sidecar/README.md lists them), the way the sidecar chose it.
 */
public final class Explanation {
  private static final String NO_VALID_POLICY = "no valid policy";

  private Explanation() {}

  /**
   * The problem the agent got for this line: empty for an allowed request and for what is not
   * answered over HTTP (DNS, a refused TLS or TCP connection, an agent TLS handshake).
   */
  public static Optional<Problem> problemOf(AuditLine line) {
    String decision = line.decision();
    String reason = line.reason() == null ? "" : line.reason();
    if (decision == null || "allow".equals(decision) || WOULD_DENY.equals(decision)) {
      return Optional.empty(); // a would-deny went out: the agent got the upstream's answer
    }
    String type = line.type();
    boolean http = "http.request".equals(type);
    boolean plaintextConnection = "connection".equals(type) && "http/1.1".equals(line.protocol());
    if (!http && !plaintextConnection) {
      return Optional.empty();
    }
    if (reason.startsWith(NO_VALID_POLICY)) {
      return Optional.of(Problem.NO_VALID_POLICY);
    }
    String token = token(reason);
    if (token.startsWith(MCP)) {
      return Optional.empty(); // answered with a JSON-RPC error, not a problem+json body
    }
    for (Problem p : Problem.values()) {
      if (p.token().equals(token)) {
        return Optional.of(p);
      }
    }
    if (token.startsWith("aws-")) {
      // aws-signature-mismatch, aws-presigned-url-refused, ...: the problem's reasons
      return Optional.of(Problem.AWS_SIGNATURE_REFUSED);
    }
    if ("error".equals(decision)) {
      // The only local error that is not an upstream one: the credential could not be obtained
      // (its reason is the resolver's message, which names the credential).
      return Optional.of(
          token.startsWith("upstream")
              ? Problem.UPSTREAM_UNREACHABLE
              : Problem.CREDENTIAL_UNAVAILABLE);
    }
    if (reason.startsWith("no egress rule") || reason.startsWith("rule '") || plaintextConnection) {
      return Optional.of(Problem.DENIED);
    }
    // What is left of a refused request is the normalizer's (RequestNormalizer): a 400.
    return Optional.of(Problem.BAD_REQUEST);
  }

  private static final String WOULD_DENY = "would-deny";

  /** The stable token a reason starts with: the part before the first colon (or all of it). */
  static String token(String reason) {
    int colon = reason.indexOf(':');
    return (colon < 0 ? reason : reason.substring(0, colon)).strip();
  }

  /** The explanation, one fact a line, for a person at a terminal. */
  public static String explain(AuditLine line) {
    List<String> out = new ArrayList<>();
    out.add(
        "request    " + or(line.requestId()) + "  (" + or(line.type()) + ", " + line.ts() + ")");
    out.add("pod        " + or(line.pod()));
    if (line.session() != null) {
      out.add(
          "session    "
              + or(line.namespace())
              + "/"
              + line.session()
              + "  (user "
              + or(line.user())
              + ", agent "
              + or(line.agent())
              + ")");
    } else {
      out.add("session    none: the sidecar had no valid policy when it decided");
    }
    out.add("what       " + AuditTable.request(line));
    out.add("decision   " + or(line.decision()));
    out.add(
        "rule       "
            + (line.rule() != null
                ? line.rule()
                : "allow".equals(line.decision()) ? "-" : "none (no egress rule matched)"));
    if (line.credential() != null) {
      out.add(
          "credential " + line.credential() + "  (names only; values never leave Vault's side)");
    }
    out.add("reason     " + or(line.reason()));
    Optional<Problem> problem = problemOf(line);
    problem.ifPresent(
        p -> out.add("problem    " + p.type() + "  (HTTP " + p.status() + ", " + p.title() + ")"));
    if (problem.isEmpty()
        && !"allow".equals(line.decision())
        && !WOULD_DENY.equals(line.decision())) {
      out.add("answer     " + nonHttpAnswer(line));
    }
    if (line.upstreamStatus() != null) {
      out.add("upstream   answered " + line.upstreamStatus());
    }
    out.add("meaning    " + meaning(line, problem.orElse(null)));
    return String.join("\n", out) + "\n";
  }

  /** The reason tokens of MCP refusals (sidecar/README.md, "MCP tools and arguments"). */
  private static final String MCP = "mcp-";

  private static String nonHttpAnswer(AuditLine line) {
    if (token(or(line.reason())).startsWith(MCP)) {
      return "a JSON-RPC error the MCP client shows (same id, naming rule and reason); nothing"
          + " reached the MCP server";
    }
    return switch (or(line.type())) {
      case "dns" -> "NXDOMAIN (the name is not one the session's rules allow)";
      case "connection" ->
          "tcp".equals(line.protocol())
              ? "the connection was closed"
              : "a TLS access_denied alert (the connection was refused before any request)";
      case "tls.handshake" -> "the TLS handshake with the agent failed; no request was read";
      default -> "-";
    };
  }

  /** What the decision means and what to change, per problem type. */
  static String meaning(AuditLine line, Problem problem) {
    if (WOULD_DENY.equals(line.decision())) {
      return "learn mode (spec.mode Audit) let it through without any credential; the rules would"
          + " refuse it (the reason says why). kubectl capgate suggest "
          + or(line.session())
          + " prints rules that would allow what was let through";
    }
    if ("allow".equals(line.decision())) {
      return "allowed by rule '"
          + or(line.rule())
          + "'"
          + (line.credential() == null ? "" : ", credential injected by the sidecar");
    }
    if (problem == null) {
      if ("dns".equals(line.type())) {
        return "the agent looked up a name no rule allows; add a rule for the host if it is needed";
      }
      String token = token(or(line.reason()));
      if (token.equals("mcp-tool-denied") || token.equals("mcp-arguments-denied")) {
        return "the rule's mcp block does not allow this tool call: if it should, add the tool or"
            + " widen its argument conditions (egress[].mcp.tools)";
      }
      if (token.startsWith(MCP)) {
        return "the MCP request body was not a JSON-RPC message the sidecar could judge (see the"
            + " reason's token)";
      }
      if (or(line.reason()).startsWith("agent-rejected-pod-ca")) {
        return "the agent does not trust the pod CA (pinning, or its trust store lacks the CA): use"
            + " tls: passthrough for that host, or configure the agent's trust";
      }
      return "no egress rule allows this destination; if it should be reachable, add a rule"
          + " (check it offline with kubectl capgate test)";
    }
    return switch (problem) {
      case DENIED ->
          "no rule of the session allows this request; if it should, add or widen an egress rule"
              + " and check it offline: kubectl capgate test FILE --request '"
              + or(line.method())
              + " https://"
              + or(line.host())
              + or(line.path())
              + "'";
      case NO_VALID_POLICY ->
          "the session was deleted, expired, invalid or unreadable by the sidecar: everything is"
              + " denied (kubectl capgate status shows the session)";
      case PLACEHOLDER_EXFILTRATION ->
          "a placeholder credential was sent where its rule does not go: a likely exfiltration"
              + " attempt; investigate the agent";
      case PLACEHOLDERS_UNAVAILABLE ->
          "the request looked like it carried a placeholder while the placeholders could not be"
              + " read: refused to be safe";
      case OVERRIDE_HEADER ->
          "the request asked the upstream for another method or URL than policy judged; send it"
              + " with that method and URL instead";
      case AWS_SIGNATURE_REFUSED ->
          "an awsSigV4 route refused the AWS request (the reason's token says why): sign it with"
              + " the placeholder keys of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in the"
              + " Authorization header (no presigned URL, no signed streaming chunks)";
      case BAD_REQUEST ->
          "malformed or ambiguous HTTP (see the reason's token); the agent's client must send a"
              + " plain request";
      case CREDENTIAL_UNAVAILABLE ->
          "the rule allowed the request but its credential could not be obtained from Vault (or"
              + " the operator): check Vault, the session's vault role and the secret's path";
      case UPSTREAM_UNREACHABLE, UPSTREAM_TIMEOUT, UPSTREAM_CLOSED ->
          "allowed by policy, but the upstream could not be used (network, proxy or the upstream"
              + " itself)";
      case UPSTREAM_TLS_HANDSHAKE_FAILED ->
          "allowed by policy, but the sidecar's TLS to the upstream failed (certificate or mutual"
              + " TLS)";
      case UNSCANNABLE_RESPONSE_ENCODING ->
          "the upstream compressed its answer in a coding the credential scrubber cannot read";
      case RATE_LIMITED ->
          "over the requests per second the rule (or the session) allows in this pod: retry after"
              + " the Retry-After seconds, or raise limits.requestsPerSecond / burst";
      case CONCURRENCY_LIMITED ->
          "as many requests in flight as the rule (or the session) allows in this pod: retry after"
              + " one ends, or raise limits.maxConcurrent";
      case BUDGET_EXHAUSTED ->
          "the rule's (or the session's) request or byte budget for this pod is used up: every"
              + " further request is refused until the budget is raised or a new session is made";
      case APPROVAL_REJECTED ->
          "the rule holds requests for a person's approval, and the approver rejected this one"
              + " (the reason names who)";
      case APPROVAL_TIMED_OUT ->
          "the rule holds requests for a person's approval and nobody decided in time: decide"
              + " sooner (kubectl capgate approvals SESSION), or raise the rule's approval.timeout";
      case APPROVAL_UNAVAILABLE ->
          "the rule holds requests for approval but the sidecar could not ask (API server out of"
              + " reach, or too many requests of the pod already waiting)";
    };
  }

  private static String or(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }
}
