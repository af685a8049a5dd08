package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.DELETE;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.ArgumentMatch;
import dev.capgate.api.v1alpha1.McpTool;
import dev.capgate.api.v1alpha1.McpTools;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.testkit.Tools;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 §2, MCP tools and arguments, on real components: the official MCP Python SDK as the
 * agent's client ({@code streamable_http_client} + {@code ClientSession}), through the real sidecar
 * (TLS intercepted with the pod CA, a bearer token from a real OpenBao injected), to the SDK's own
 * server ({@code MCPServer} under uvicorn, HTTPS, refusing any request without that token) with
 * three tools: {@code create_issue(repo, title)}, {@code delete_repo(repo)} and {@code
 * big_report(repo)}. The rule allows {@code create_issue} only for {@code repo == acme/repo-a}, and
 * {@code big_report} with answers of at most 4 KiB. The server runs twice: answering with SSE
 * streams (9443) and with JSON bodies (9444), so both kinds of answer are filtered.
 */
class McpToolsIT {
  private static final String SECRET = "mcp_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));
  private static final String USER = "alice@example.com";
  private static final String RULE = "mcp-issues";

  @AutoClose private static PodNetns pod;
  private static Path client;

  /** The SDK's server: each tool prints a line when it runs, what the upstream executed. */
  private static final String SERVER =
"""
import sys, uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
port, mode, authfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cert = sys.argv[4] if len(sys.argv) > 5 else None
key = sys.argv[5] if len(sys.argv) > 5 else None
expected = open(authfile).read().strip()
server = MCPServer("issues")

@server.tool()
def create_issue(repo: str, title: str) -> str:
    'Opens an issue.'
    print("TOOL create_issue", flush=True)
    return f"created issue '{title}' in {repo}"

@server.tool()
def delete_repo(repo: str) -> str:
    'Deletes a repository.'
    print("TOOL delete_repo", flush=True)
    return f"deleted {repo}"

@server.tool()
def big_report(repo: str) -> str:
    'A report larger than the rule lets through.'
    print("TOOL big_report", flush=True)
    return "x" * 200000

app = server.streamable_http_app(
    streamable_http_path="/mcp",
    json_response=(mode == "json"),
    transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))

async def guarded(scope, receive, send):
    if scope["type"] == "http":
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        if auth != expected:
            print("MCP", scope["method"], 401, flush=True)
            await send({"type": "http.response.start", "status": 401, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        print("MCP", scope["method"], scope["path"], flush=True)
    await app(scope, receive, send)

print("mcp server ready", mode, port, flush=True)
uvicorn.run(guarded, host="0.0.0.0", port=port, ssl_certfile=cert, ssl_keyfile=key, log_level="warning")
      """;

  /**
   * The agent: the SDK's client lists the tools and calls four, then sends a JSON-RPC batch and a
   * body that is not JSON on the same endpoint (the SDK itself no longer sends batches); prints one
   * JSON object of what it saw.
   */
  private static final String CLIENT =
"""
import json, ssl, sys
import anyio, httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

url, cafile = sys.argv[1], sys.argv[2]
headers = {}
if len(sys.argv) > 3:
    headers["Authorization"] = sys.argv[3]

def client():
    verify = ssl.create_default_context(cafile=cafile) if cafile != "-" else True
    return httpx2.AsyncClient(verify=verify, headers=headers, timeout=httpx2.Timeout(30.0, read=60.0))

async def call(session, out, key, tool, arguments):
    try:
        r = await session.call_tool(tool, arguments)
        out[key] = {"isError": bool(r.is_error), "text": " ".join(getattr(c, "text", "") for c in r.content)[:200]}
    except MCPError as e:
        out[key] = {"code": e.code, "message": e.message}

async def main():
    out = {}
    async with client() as http:
        async with streamable_http_client(url, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                tools = await session.list_tools()
                out["tools"] = sorted(t.name for t in tools.tools)
                await call(session, out, "allowed", "create_issue", {"repo": "acme/repo-a", "title": "bug: x"})
                await call(session, out, "denied_tool", "delete_repo", {"repo": "acme/repo-a"})
                await call(session, out, "wrong_repo", "create_issue", {"repo": "acme/other", "title": "bug: y"})
                await call(session, out, "too_large", "big_report", {"repo": "acme/repo-a"})
        # A batch (JSON-RPC 2.0), sent as a client would on the same endpoint.
        batch = [
            {"jsonrpc": "2.0", "id": 101, "method": "tools/call", "params": {"name": "create_issue", "arguments": {"repo": "acme/repo-a", "title": "bug: b"}}},
            {"jsonrpc": "2.0", "id": 102, "method": "tools/call", "params": {"name": "delete_repo", "arguments": {"repo": "acme/repo-a"}}},
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}},
        ]
        r = await http.post(url, json=batch, headers={"Accept": "application/json, text/event-stream"})
        out["batch"] = {"status": r.status_code, "body": r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text[:300]}
        # An allowed batch goes upstream as it is (this server, like MCP since 2025-06-18, refuses it).
        allowed = [batch[0], {"jsonrpc": "2.0", "id": 103, "method": "tools/list"}]
        r = await http.post(url, json=allowed, headers={"Accept": "application/json, text/event-stream"})
        out["batch_allowed"] = {"status": r.status_code, "body": r.text[:300]}
        r = await http.post(url, content=b"this is not json", headers={"Accept": "application/json, text/event-stream", "Content-Type": "application/json"})
        out["not_json"] = {"status": r.status_code, "body": r.text[:300]}
    print(json.dumps(out))

anyio.run(main)
      """;

  @BeforeAll
  static void startPod() throws IOException {
    Path python = Tools.mcp("python"); // fails loudly, saying make tools, before anything starts
    VaultKv vault = new VaultKv().put("mcp/" + USER, "token", SECRET);
    pod = DataPlanePod.start("McpToolsIT", vault.address());
    Path authFile = pod.dir().resolve("mcp-server-auth");
    Files.createFile(
        authFile,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(authFile, "Bearer " + SECRET);
    Path server = Files.writeString(pod.dir().resolve("mcp-server.py"), SERVER);
    client = Files.writeString(pod.dir().resolve("mcp-client.py"), CLIENT);
    Path up = pod.dir().resolve("upstream");
    for (String[] mode : new String[][] {{"9443", "sse"}, {"9444", "json"}}) {
      pod.startInPeer(
          "mcp-server-" + mode[1] + ".log",
          "mcp server ready",
          python.toString(),
          server.toString(),
          mode[0],
          mode[1],
          authFile.toString(),
          up.resolve("server.crt").toString(),
          up.resolve("server.key").toString());
    }
    pod.startSidecar(
        SessionSpecs.session("mcp")
            .user(USER)
            .credential(kv2("mcp-token", vault.path("mcp/{{user}}"), "token").bearer().build())
            .egress(
                rule(RULE)
                    .hosts("api.github.test")
                    .ports(9443, 9444)
                    .methods(GET, POST, DELETE)
                    .paths("/mcp")
                    .credential("mcp-token")
                    .mcp(
                        new McpTools(
                            "/mcp",
                            List.of(
                                new McpTool(
                                    "create_issue",
                                    List.of(
                                        new ArgumentMatch(
                                            "/repo", "acme/repo-a", null, null, null))),
                                new McpTool("big_report", null)),
                            4096)))
            .json(),
        vault.readerToken(),
        List.of());
  }

  @Test
  void the_sdk_client_over_sse_answers() {
    String log = "mcp-server-sse.log";
    checkSession(log, ran(log), run(9443));
  }

  @Test
  void the_sdk_client_over_json_answers() {
    String log = "mcp-server-json.log";
    checkSession(log, ran(log), run(9444));
  }

  /** How often each tool ran on the server of {@code log} so far. */
  private static Map<String, Long> ran(String log) {
    return Map.of(
        "create_issue", tools(log, "create_issue"),
        "big_report", tools(log, "big_report"),
        "delete_repo", tools(log, "delete_repo"));
  }

  private static void checkSession(String log, Map<String, Long> before, JsonObject seen) {
    assertThat(seen.getJsonArray("tools").getList())
        .as("tools/list filtered to the allowed tools")
        .containsExactly("big_report", "create_issue");

    JsonObject allowed = seen.getJsonObject("allowed");
    assertThat(allowed.getBoolean("isError")).isFalse();
    assertThat(allowed.getString("text")).isEqualTo("created issue 'bug: x' in acme/repo-a");

    JsonObject deniedTool = seen.getJsonObject("denied_tool");
    assertThat(deniedTool.getInteger("code")).isEqualTo(-32001);
    assertThat(deniedTool.getString("message"))
        .isEqualTo(
            "capgate: tools/call denied: tool 'delete_repo' is not allowed by rule 'mcp-issues'");

    JsonObject wrongRepo = seen.getJsonObject("wrong_repo");
    assertThat(wrongRepo.getInteger("code")).isEqualTo(-32001);
    assertThat(wrongRepo.getString("message"))
        .contains("tool 'create_issue': argument /repo does not satisfy rule 'mcp-issues'")
        .doesNotContain("acme/other");

    JsonObject tooLarge = seen.getJsonObject("too_large");
    assertThat(tooLarge.getInteger("code")).isEqualTo(-32002);
    assertThat(tooLarge.getString("message")).contains("larger than 4096 bytes");

    JsonObject batch = seen.getJsonObject("batch");
    assertThat(batch.getInteger("status")).isEqualTo(200);
    JsonArray answers = batch.getJsonArray("body");
    assertThat(answers.size()).as(answers.encode()).isEqualTo(2);
    assertThat(answers.getJsonObject(0).getInteger("id")).isEqualTo(102);
    assertThat(answers.getJsonObject(0).getJsonObject("error").getString("message"))
        .contains("delete_repo");
    assertThat(answers.getJsonObject(1).getInteger("id")).isEqualTo(101);
    assertThat(answers.getJsonObject(1).getJsonObject("error").getString("message"))
        .contains("refused whole");

    JsonObject allowedBatch = seen.getJsonObject("batch_allowed");
    assertThat(allowedBatch.getString("body"))
        .as("answered by the server, not the sidecar")
        .contains("Validation error")
        .doesNotContain("capgate");

    JsonObject notJson = seen.getJsonObject("not_json");
    assertThat(notJson.getInteger("status")).isEqualTo(400);
    assertThat(new JsonObject(notJson.getString("body")).getJsonObject("error").getInteger("code"))
        .isEqualTo(-32700);

    // What the server ran: the allowed call and the big report, nothing the rule refused.
    assertThat(tools(log, "create_issue") - before.get("create_issue"))
        .as(pod.log(log))
        .isEqualTo(1);
    assertThat(tools(log, "big_report") - before.get("big_report")).isEqualTo(1);
    assertThat(tools(log, "delete_repo")).isZero();
    assertThat(pod.log(log)).doesNotContain(" 401");
  }

  @Test
  void refusals_are_audited_with_rule_tool_and_reason_and_counted_by_tool_outcome() {
    run(9443);
    JsonObject denied =
        AuditLines.awaitLast(pod, "api.github.test", "mcp-tool-denied: tool 'delete_repo'");
    assertThat(denied.getString("decision")).isEqualTo("deny");
    assertThat(denied.getString("rule")).isEqualTo(RULE);
    JsonObject args =
        AuditLines.awaitLast(pod, "api.github.test", "mcp-arguments-denied: tool 'create_issue'");
    assertThat(args.getString("reason")).contains("argument /repo").doesNotContain("acme/other");
    JsonObject allowed =
        AuditLines.awaitLast(
            pod, "api.github.test", "allowed by rule 'mcp-issues'; mcp: tools/call 'create_issue'");
    assertThat(allowed.getString("decision")).isEqualTo("allow");
    assertThat(
            AuditLines.awaitLast(
                    pod, "api.github.test", "allowed by rule 'mcp-issues'; mcp: tools/list")
                .getString("reason"))
        .contains("tools/list filtered (1 tools not allowed hidden)");
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              List<String> series = pod.metricSeries("capgate_mcp_tool_calls_total");
              assertThat(series)
                  .anyMatch(
                      l -> l.contains("tool=\"create_issue\"") && l.contains("outcome=\"allowed\""))
                  .anyMatch(
                      l ->
                          l.contains("tool=\"create_issue\"")
                              && l.contains("outcome=\"arguments-denied\""))
                  .anyMatch(
                      l -> l.contains("tool=\"(other)\"") && l.contains("outcome=\"tool-denied\""))
                  .anyMatch(
                      l ->
                          l.contains("tool=\"big_report\"")
                              && l.contains("outcome=\"result-too-large\""))
                  .noneMatch(l -> l.contains("delete_repo"));
            });
  }

  @Test
  void no_log_and_no_client_output_holds_the_credential() {
    Command.Result r = client(9444);
    assertThat(r.all()).doesNotContain(SECRET);
    for (Path file : pod.logFiles()) {
      if (file.getFileName().toString().equals("mcp-server-auth")) {
        continue;
      }
      assertThat(pod.log(file.getFileName().toString())).as(file.toString()).doesNotContain(SECRET);
    }
  }

  // ------------------------------------------------------------------ helpers

  private static Command.Result client(int port) {
    return pod.asRootInPod(
        Map.of(),
        Duration.ofSeconds(120),
        Tools.mcp("python").toString(),
        client.toString(),
        "https://api.github.test:" + port + "/mcp",
        pod.podCaCert().toString());
  }

  /** The SDK client's run, as the JSON object it printed (its stderr shown on failure). */
  private static JsonObject run(int port) {
    Command.Result r = client(port);
    System.out.println(
        "---- MCP client against :" + port + ": exit " + r.exitCode() + "\n" + r.stdout());
    assertThat(r.exitCode()).as(r.all()).isZero();
    String last = r.stdout().strip().lines().reduce((a, b) -> b).orElse("");
    return new JsonObject(last);
  }

  private static long tools(String log, String tool) {
    return pod.log(log).lines().filter(l -> l.equals("TOOL " + tool)).count();
  }
}
