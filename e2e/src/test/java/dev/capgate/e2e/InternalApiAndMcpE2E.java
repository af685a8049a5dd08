package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.ProcessResult;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The other credential kinds: a dynamic OpenBao identity token (a JWT minted at egress time with
 * the session's Vault token, so its {@code sub} is the OpenBao entity of the session's user, which
 * the JWT auth method keys on the session JWT's {@code user} claim) to an internal API that
 * verifies it against OpenBao's JWKS, and a bearer token from KV for a remote MCP server.
 */
class InternalApiAndMcpE2E {
  @AutoClose // the secret sweep
  static AgentSandbox agent;

  @BeforeAll
  static void start() {
    agent = AgentSandbox.start("identity", Sessions.internalAndMcp("internal-and-mcp"));
  }

  @Test
  void theInternalApiGetsAnIdentityTokenItCanVerify() {
    ProcessResult r =
        agent.sh("curl -sS -w '\\nHTTP %{http_code}' https://internal.test/orders/42");
    assertThat(r.stdout())
        .contains("HTTP 200")
        .containsPattern("\"aud\":\"\\[?internal.test\\]?\"")
        .contains("\"path\":\"/orders/42\"")
        .containsPattern("\"sub\":\"[0-9a-f-]{36}\"");
    ProcessResult denied =
        agent.sh("curl -sS -w '\\nHTTP %{http_code}' https://internal.test/admin/users");
    assertThat(denied.stdout()).contains("HTTP 403");
    ProcessResult withoutCapgate =
        agent.sh("curl -sS -w '\\nHTTP %{http_code}' -X POST https://internal.test/orders/42");
    assertThat(withoutCapgate.stdout()).contains("HTTP 403");
  }

  @Test
  void theMcpServerAnswersWithTheInjectedToken() {
    ProcessResult init =
        agent.sh(
            "curl -sS -w '\\nHTTP %{http_code}' -H 'content-type: application/json' "
                + "-H 'accept: application/json, text/event-stream' "
                + "-d '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                + "\"capabilities\":{},\"clientInfo\":{\"name\":\"agent\",\"version\":\"1\"}}}' https://mcp.test/mcp");
    assertThat(init.stdout()).contains("HTTP 200").contains("capgate-e2e-mcp");
    ProcessResult call =
        agent.sh(
            "curl -sS -w '\\nHTTP %{http_code}' -H 'content-type: application/json' "
                + "-d '{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}' https://mcp.test/mcp");
    assertThat(call.stdout())
        .contains("HTTP 200")
        .contains("authenticated by Capgate-injected token");
    ProcessResult git =
        agent.sh(
            "curl -sS -w '\\nHTTP %{http_code}' https://api.github.test/repos/acme/repo-a 2>&1");
    assertThat(git.stdout()).doesNotContain("HTTP 200");
  }
}
