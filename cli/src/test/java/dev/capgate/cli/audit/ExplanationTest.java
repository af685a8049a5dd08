package dev.capgate.cli.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.audit.Problem;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExplanationTest {
  private static AuditLine line(String id) throws IOException {
    List<AuditLine> all =
        AuditLines.merge(List.of(AuditLinesTest.pod("agent-a"), AuditLinesTest.pod("agent-b")));
    return AuditLines.find(all, id).orElseThrow();
  }

  @Test
  void problemTypesAreTheOnesTheAgentGot() throws IOException {
    assertThat(Explanation.problemOf(line("7gk2m9qa-1b"))).isEmpty();
    assertThat(Explanation.problemOf(line("7gk2m9qa-1c"))).contains(Problem.DENIED);
    assertThat(Explanation.problemOf(line("q2w3e4r5-1"))).contains(Problem.CREDENTIAL_UNAVAILABLE);
    assertThat(Explanation.problemOf(line("q2w3e4r5-2"))).contains(Problem.BAD_REQUEST);
    assertThat(Explanation.problemOf(line("q2w3e4r5-3"))).contains(Problem.NO_VALID_POLICY);
    // A refused TLS connection gets an alert, not a problem+json body.
    assertThat(Explanation.problemOf(line("9xk1pp0a-1"))).isEmpty();
  }

  @Test
  void tokensPickTheirProblem() {
    assertThat(problem("error", "upstream-timeout: no answer in 120s"))
        .contains(Problem.UPSTREAM_TIMEOUT);
    assertThat(problem("error", "upstream-tls-handshake-failed: certificate_unknown"))
        .contains(Problem.UPSTREAM_TLS_HANDSHAKE_FAILED);
    assertThat(problem("deny", "placeholder-exfiltration: likely exfiltration attempt (GH_TOKEN)"))
        .contains(Problem.PLACEHOLDER_EXFILTRATION);
    assertThat(problem("deny", "override-header: x-http-method-override"))
        .contains(Problem.OVERRIDE_HEADER);
    assertThat(
            problem(
                "deny",
                "rule 'api' injects a credential, which is never sent over plaintext HTTP: use https"))
        .contains(Problem.DENIED);
    assertThat(problem("error", "unscannable-response-encoding: br"))
        .contains(Problem.UNSCANNABLE_RESPONSE_ENCODING);
    assertThat(problem("deny", "aws-signature-mismatch: the signature does not match"))
        .contains(Problem.AWS_SIGNATURE_REFUSED);
    assertThat(problem("deny", "aws-presigned-url-refused: presigned URLs are refused"))
        .contains(Problem.AWS_SIGNATURE_REFUSED);
    assertThat(
            problem(
                "deny",
                "rate-limited: rule 'api' allows 2 requests/s, burst 10 (per pod); retry after 1 s"))
        .contains(Problem.RATE_LIMITED);
    assertThat(problem("deny", "concurrency-limited: rule 'api' allows 4 requests in flight"))
        .contains(Problem.CONCURRENCY_LIMITED);
    assertThat(
            problem(
                "deny",
                "budget-exhausted: the session has used its budget of 5000 requests in this pod"))
        .contains(Problem.BUDGET_EXHAUSTED);
  }

  @Test
  void anMcpRefusalIsAJsonRpcErrorNotAProblem() {
    String reason =
        "mcp-tool-denied: tool 'delete_repo' is not allowed by rule 'mcp-issues'; mcp: tools/call"
            + " 'delete_repo' denied";
    assertThat(problem("deny", reason)).isEmpty();
    String json =
        "{\"ts\":\"2026-12-07T02:40:01Z\",\"requestId\":\"a-1\",\"decision\":\"deny\",\"rule\":\"mcp-issues\","
            + "\"reason\":\""
            + reason
            + "\",\"type\":\"http.request\",\"kind\":\"request\"}";
    assertThat(Explanation.explain(AuditLines.parse("p", json).orElseThrow()))
        .contains("answer     a JSON-RPC error the MCP client shows")
        .contains("add the tool or widen its argument conditions")
        .doesNotContain("problem ");
  }

  private static java.util.Optional<Problem> problem(String decision, String reason) {
    String json =
        "{\"ts\":\"2026-12-07T02:40:01Z\",\"requestId\":\"a-1\",\"decision\":\""
            + decision
            + "\",\"reason\":\""
            + reason
            + "\",\"type\":\"http.request\",\"kind\":\"request\"}";
    return Explanation.problemOf(AuditLines.parse("p", json).orElseThrow());
  }

  @Test
  void explainsADenial() throws IOException {
    String text = Explanation.explain(line("7gk2m9qa-1c"));
    assertThat(text)
        .contains("request    7gk2m9qa-1c")
        .contains("pod        agent-a")
        .contains("session    agents/fix-issue-42  (user alice@example.com, agent coding-agent)")
        .contains("what       DELETE api.github.com/repos/acme/repo-a")
        .contains("decision   deny")
        .contains("rule       none (no egress rule matched)")
        .contains("reason     no egress rule for api.github.com allows DELETE /repos/acme/repo-a")
        .contains(
            "problem    tag:capgate.dev,2026:problem:denied  (HTTP 403, Denied by the session's policy)")
        .contains(
            "kubectl capgate test FILE --request 'DELETE https://api.github.com/repos/acme/repo-a'");
  }

  @Test
  void explainsAnAllowAndARefusedConnection() throws IOException {
    assertThat(Explanation.explain(line("7gk2m9qa-1b")))
        .contains(
            "rule       github-api",
            "credential github",
            "upstream   answered 200",
            "allowed by rule 'github-api'")
        .doesNotContain("problem");
    assertThat(Explanation.explain(line("9xk1pp0a-1")))
        .contains("answer     a TLS access_denied alert", "no egress rule allows this destination");
    assertThat(Explanation.explain(line("q2w3e4r5-3")))
        .contains("session    none", "problem:no-valid-policy");
  }

  /** A would-deny line of LearnModeIT's sidecar: the request went out, no problem body. */
  @Test
  void explainsAWouldDeny() throws IOException {
    AuditLine wouldDeny = AuditLines.find(AuditLinesTest.pod("learn"), "917phz00-4").orElseThrow();
    assertThat(Explanation.problemOf(wouldDeny)).isEmpty();
    assertThat(Explanation.explain(wouldDeny))
        .contains(
            "decision   would-deny",
            "rule       none (no egress rule matched)",
            "upstream   answered 200",
            "learn mode (spec.mode Audit) let it through without any credential",
            "kubectl capgate suggest learn")
        .doesNotContain("problem", "answer ");
  }
}
