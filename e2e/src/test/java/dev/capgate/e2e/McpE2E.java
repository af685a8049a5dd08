package dev.capgate.e2e;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.DELETE;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.ArgumentMatch;
import dev.capgate.api.v1alpha1.McpTool;
import dev.capgate.api.v1alpha1.McpTools;
import dev.capgate.testkit.ProcessResult;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 16 §2 on the real cluster: the official MCP Python SDK ({@code mcp-python}, the agent
 * image's copy of mcp 2.3.0) in the agent pod, against the stack's MCP server {@code mcp.test}
 * (Streamable HTTP; {@code /mcp} answers JSON, {@code /mcp/sse} SSE), through a rule that allows
 * {@code create_issue} only for {@code acme/repo-a}, {@code search} and {@code whoami}, and not
 * {@code delete_repo}. Per transport: {@code tools/list} shows the three allowed tools, the allowed
 * call works with the token the sidecar injected (the agent sends none and has none), and the
 * refused calls are the JSON-RPC errors the SDK raises. Then a batch with one refused call (none of
 * it goes upstream), an allowed batch, and a refused call sent as a notification. What reached the
 * server is read from its log; the audit lines carry the decision, the rule and the tool.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class McpE2E {
  static final String RULE = "mcp-issues";
  static final Evidence EVIDENCE = new Evidence("mcp.txt");
  @AutoClose // the secret sweep
  static AgentSandbox agent;
  static int upstreamLogOffset;

  /**
   * The agent's script: the SDK's own client ({@code streamable_http_client} + {@code
   * ClientSession}) with no Authorization header and the pod's default trust; then raw JSON-RPC
   * through the same SDK's HTTP client (httpx2) for what the SDK no longer sends (batches, a call
   * as a notification). Prints one JSON object.
   */
  static final String CLIENT =
      """
      import json, os, sys
      import anyio, httpx2
      from mcp import ClientSession
      from mcp.client.streamable_http import streamable_http_client
      from mcp.shared.exceptions import MCPError

      url, mode = sys.argv[1], sys.argv[2]
      ACCEPT = {"Accept": "application/json, text/event-stream"}

      async def call(session, out, key, tool, arguments):
          try:
              r = await session.call_tool(tool, arguments)
              out[key] = {"isError": bool(r.is_error), "text": " ".join(getattr(c, "text", "") for c in r.content)[:200]}
          except MCPError as e:
              out[key] = {"raised": type(e).__name__, "code": e.code, "message": e.message}

      def body(r):
          return r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text[:600]

      async def main():
          out = {"agentTokenEnv": sorted(k for k in os.environ if "TOKEN" in k.upper() and "CAPGATE" not in k.upper())}
          async with httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, read=60.0)) as http:
              if mode == "sdk":
                  async with streamable_http_client(url, http_client=http) as streams:
                      async with ClientSession(streams[0], streams[1]) as session:
                          init = await session.initialize()
                          out["server"] = init.server_info.name
                          tools = await session.list_tools()
                          out["tools"] = sorted(t.name for t in tools.tools)
                          await call(session, out, "allowed", "create_issue", {"repo": "acme/repo-a", "title": "bug: e2e"})
                          await call(session, out, "search", "search", {"query": "TODO"})
                          await call(session, out, "wrong_repo", "create_issue", {"repo": "acme/repo-b", "title": "bug: e2e"})
                          await call(session, out, "denied_tool", "delete_repo", {"repo": "acme/repo-a"})
              else:
                  allowed = {"jsonrpc": "2.0", "id": 101, "method": "tools/call", "params": {"name": "create_issue", "arguments": {"repo": "acme/repo-a", "title": "bug: batch"}}}
                  refused = {"jsonrpc": "2.0", "id": 102, "method": "tools/call", "params": {"name": "delete_repo", "arguments": {"repo": "acme/repo-a"}}}
                  r = await http.post(url, json=[allowed, refused], headers=ACCEPT)
                  out["batch_refused"] = {"status": r.status_code, "body": body(r)}
                  r = await http.post(url, json=[allowed, {"jsonrpc": "2.0", "id": 103, "method": "tools/list"}], headers=ACCEPT)
                  out["batch_allowed"] = {"status": r.status_code, "body": body(r)}
                  note = {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "delete_repo", "arguments": {"repo": "acme/repo-a"}}}
                  r = await http.post(url, json=note, headers=ACCEPT)
                  out["notification_refused"] = {"status": r.status_code, "body": r.text}
          print(json.dumps(out))

      anyio.run(main)
      """;

  static AgentSessionBuilder session(String name) {
    return Sessions.alice(name)
        // The MCP server's own token (secret/mcp/<user>): only mcp.test accepts it, and this rule
        // lets it go nowhere else: audience-bound as the MCP authorization spec asks.
        .credential(kv2("mcp", "secret/data/mcp/{{user}}", "token").bearer())
        .egress(
            rule(RULE)
                .hosts("mcp.test")
                .methods(GET, POST, DELETE)
                .paths("/mcp", "/mcp/sse")
                .credential("mcp")
                .mcp(
                    new McpTools(
                        null, // both paths are MCP endpoints
                        List.of(
                            new McpTool(
                                "create_issue",
                                List.of(
                                    new ArgumentMatch("/repo", "acme/repo-a", null, null, null))),
                            new McpTool("search", null),
                            new McpTool("whoami", null)),
                        null)));
  }

  @BeforeAll
  static void start() {
    upstreamLogOffset = GitHubAppE2E.upstreamsLog().length();
    agent = AgentSandbox.start("mcp", session("mcp"));
  }

  @Test
  @Order(1)
  void theSdkClientOverJsonSeesOnlyAllowedToolsAndTheRefusalsAsErrors() {
    theSdkClientSession("json", "https://mcp.test/mcp");
  }

  @Test
  @Order(2)
  void theSdkClientOverSseSeesOnlyAllowedToolsAndTheRefusalsAsErrors() {
    theSdkClientSession("sse", "https://mcp.test/mcp/sse");
  }

  @Test
  @Order(3)
  void aBatchWithARefusedCallIsRefusedWholeAndARefusedNotificationGoesNowhere() {
    for (String url : List.of("https://mcp.test/mcp", "https://mcp.test/mcp/sse")) {
      JsonObject seen = run("batch " + url, url, "raw");
      JsonObject refused = seen.getJsonObject("batch_refused");
      assertThat(refused.getInteger("status")).isEqualTo(200);
      JsonArray answers = refused.getJsonArray("body");
      assertThat(answers).hasSize(2);
      assertThat(errorMessage(answers, 101))
          .as("the allowed call in a refused batch")
          .contains("the batch was refused whole");
      assertThat(errorMessage(answers, 102))
          .contains("tool 'delete_repo' is not allowed by rule '" + RULE + "'");

      JsonObject allowed = seen.getJsonObject("batch_allowed");
      assertThat(allowed.getInteger("status")).isEqualTo(200);
      String body = allowed.getValue("body").toString();
      assertThat(body)
          .contains("created issue #1 in acme/repo-a")
          .contains("create_issue")
          .as("tools/list inside the batch, filtered")
          .doesNotContain("delete_repo");

      JsonObject note = seen.getJsonObject("notification_refused");
      assertThat(note.getInteger("status")).isEqualTo(202);
      assertThat(note.getString("body")).isEmpty();
    }
    List<JsonObject> calls = upstreamToolCalls();
    assertThat(calls)
        .as("what reached the server: only allowed calls")
        .allSatisfy(c -> assertThat(c.getString("tool")).isNotEqualTo("delete_repo"))
        .allSatisfy(c -> assertThat(c.getString("repo")).isNotEqualTo("acme/repo-b"));
    // Per transport: the SDK's create_issue and search, the allowed batch's create_issue.
    assertThat(calls.stream().filter(c -> "create_issue".equals(c.getString("tool"))).count())
        .isEqualTo(4);
    EVIDENCE.note("upstream", "tool calls the MCP server saw (its log):");
    calls.forEach(c -> EVIDENCE.note("upstream", "  " + c.encode()));
  }

  @Test
  @Order(4)
  void theAuditLinesCarryDecisionRuleAndTool() {
    List<JsonObject> denied =
        SidecarAudit.await(
            agent,
            "mcp-tool-denied / mcp-arguments-denied",
            4,
            l ->
                "deny".equals(l.getString("decision"))
                    && l.getString("reason", "").startsWith("mcp-"));
    assertThat(denied).allSatisfy(l -> assertThat(l.getString("rule")).isEqualTo(RULE));
    assertThat(denied)
        .anySatisfy(
            l ->
                assertThat(l.getString("reason"))
                    .startsWith("mcp-tool-denied: tool 'delete_repo' is not allowed"))
        .anySatisfy(
            l ->
                assertThat(l.getString("reason"))
                    .startsWith("mcp-arguments-denied: tool 'create_issue': argument /repo"));
    List<JsonObject> allowed =
        SidecarAudit.await(
            agent,
            "tools/call 'create_issue' allowed",
            2,
            l ->
                "allow".equals(l.getString("decision"))
                    && l.getString("reason", "")
                        .contains("mcp: tools/call 'create_issue' allowed"));
    List<JsonObject> filtered =
        SidecarAudit.await(
            agent,
            "tools/list filtered",
            2,
            l ->
                l.getString("reason", "")
                    .contains("mcp: tools/list filtered (1 tools not allowed hidden)"));
    assertThat(allowed).allSatisfy(l -> assertThat(l.getString("rule")).isEqualTo(RULE));
    for (JsonObject l : List.of(denied.getFirst(), allowed.getFirst(), filtered.getFirst())) {
      EVIDENCE.note("audit", SidecarAudit.brief(l));
    }
    // Never an argument value in the audit: the refused repo and the titles stay out of it.
    assertThat(agent.sidecarLog()).doesNotContain("acme/repo-b").doesNotContain("bug: e2e");
  }

  private static void theSdkClientSession(String transport, String url) {
    JsonObject seen = run("sdk " + transport, url, "sdk");
    assertThat(seen.getJsonArray("agentTokenEnv")).as("the agent holds no token").isEmpty();
    assertThat(seen.getString("server")).isEqualTo("capgate-e2e-mcp");
    assertThat(seen.getJsonArray("tools").getList())
        .as("tools/list filtered to the allowed tools")
        .containsExactly("create_issue", "search", "whoami");

    JsonObject allowed = seen.getJsonObject("allowed");
    assertThat(allowed.getBoolean("isError")).isFalse();
    assertThat(allowed.getString("text")).isEqualTo("created issue #1 in acme/repo-a");
    assertThat(seen.getJsonObject("search").getBoolean("isError")).isFalse();

    JsonObject wrongRepo = seen.getJsonObject("wrong_repo");
    assertThat(wrongRepo.getString("raised")).as("the SDK raised the JSON-RPC error").isNotNull();
    assertThat(wrongRepo.getInteger("code")).isEqualTo(-32001);
    assertThat(wrongRepo.getString("message"))
        .contains("argument /repo does not satisfy rule '" + RULE + "'")
        .doesNotContain("acme/repo-b");
    JsonObject deniedTool = seen.getJsonObject("denied_tool");
    assertThat(deniedTool.getInteger("code")).isEqualTo(-32001);
    assertThat(deniedTool.getString("message"))
        .contains("tool 'delete_repo' is not allowed by rule '" + RULE + "'");

    List<JsonObject> calls =
        upstreamToolCalls().stream()
            .filter(c -> transport.equals(c.getString("transport")))
            .toList();
    assertThat(calls)
        .as("the server saw the allowed calls, with its token (it answers 401 without)")
        .extracting(c -> c.getString("tool") + " " + c.getString("repo"))
        .containsExactly("create_issue acme/repo-a", "search null");
    assertThat(calls)
        .allSatisfy(c -> assertThat(c.getString("authorization")).isEqualTo("verified"));
  }

  /** Runs the client script in the pod (script on stdin), prints and parses its JSON. */
  private static JsonObject run(String label, String url, String mode) {
    String command =
        "cat > /tmp/mcp-client.py && mcp-python /tmp/mcp-client.py " + url + " " + mode;
    long t0 = System.nanoTime();
    ProcessResult r =
        agent
            .kubectl()
            .shWithInput(
                agent.namespace(),
                AgentSandbox.POD,
                CLIENT.getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(120),
                command);
    EVIDENCE.command(label, command, r);
    EVIDENCE.note(label, "took " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    String last = r.stdout().strip().lines().reduce((a, b) -> b).orElse("{}");
    return new JsonObject(last);
  }

  /** The error message of the answer with {@code id} in a batch's answers (in any order). */
  private static String errorMessage(JsonArray answers, int id) {
    for (Object a : answers) {
      JsonObject answer = (JsonObject) a;
      if (Integer.valueOf(id).equals(answer.getInteger("id"))) {
        return answer.getJsonObject("error").getString("message");
      }
    }
    throw new AssertionError("no answer with id " + id + " in " + answers.encode());
  }

  /** The tool calls the MCP server logged since this class started. */
  private static List<JsonObject> upstreamToolCalls() {
    String log = GitHubAppE2E.upstreamsLog();
    return log.substring(Math.min(upstreamLogOffset, log.length()))
        .lines()
        .filter(l -> l.startsWith("{\"mcp\":\"tools/call\""))
        .map(JsonObject::new)
        .toList();
  }
}
