package dev.capgate.sidecar.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.capgate.api.v1alpha1.McpTool;
import dev.capgate.api.v1alpha1.McpTools;
import dev.capgate.sidecar.policy.McpRules;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ResultFilterTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final McpRules RULES =
      new McpRules("mcp", new McpTools(null, List.of(new McpTool("create_issue", null)), 1024));

  private static final String LIST =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"create_issue\",\"inputSchema\":{}},"
          + "{\"name\":\"delete_repo\",\"inputSchema\":{}}]}}";

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void a_json_tools_list_answer_lists_only_the_allowed_tools() throws Exception {
    ResultFilter f = new ResultFilter(RULES, Set.of(IntNode.valueOf(1)), Set.of());
    JsonNode out = JSON.readTree(f.json(utf8(LIST)));
    assertThat(out.at("/result/tools")).hasSize(1);
    assertThat(out.at("/result/tools/0/name").asText()).isEqualTo("create_issue");
    assertThat(f.note()).contains("1 tools not allowed hidden");
  }

  @Test
  void answers_to_other_requests_and_non_json_pass_unchanged() {
    ResultFilter f = new ResultFilter(RULES, Set.of(IntNode.valueOf(2)), Set.of());
    byte[] body = utf8(LIST);
    assertThat(f.json(body)).isSameAs(body);
    byte[] junk = utf8("<html>");
    assertThat(f.json(junk)).isSameAs(junk);
  }

  @Test
  void an_sse_stream_is_filtered_event_by_event_across_chunk_boundaries() throws Exception {
    ResultFilter f = new ResultFilter(RULES, Set.of(IntNode.valueOf(1)), Set.of());
    ResultFilter.Sse sse = f.sse();
    String stream =
        "event: message\r\nid: e1\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\r\n\r\n"
            + "event: message\ndata: "
            + LIST
            + "\n\n";
    byte[] all = utf8(stream);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < all.length; i += 7) {
      byte[] chunk = java.util.Arrays.copyOfRange(all, i, Math.min(all.length, i + 7));
      out.append(text(sse.feed(chunk)));
    }
    out.append(text(sse.finish()));
    String result = out.toString();
    assertThat(result)
        .startsWith(
            "event: message\r\nid: e1\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\r\n\r\n");
    assertThat(result).contains("create_issue").doesNotContain("delete_repo");
    String data =
        result
            .lines()
            .filter(l -> l.startsWith("data: {\"jsonrpc\":\"2.0\",\"id\""))
            .findFirst()
            .orElseThrow();
    assertThat(JSON.readTree(data.substring(6)).at("/result/tools")).hasSize(1);
  }

  @Test
  void an_answer_over_the_limit_becomes_an_error_for_the_request() throws Exception {
    ResultFilter f = new ResultFilter(RULES, Set.of(), Set.of(TextNode.valueOf("c")));
    JsonNode error = JSON.readTree(f.jsonTooLarge());
    assertThat(error.get("id").asText()).isEqualTo("c");
    assertThat(error.at("/error/code").asInt()).isEqualTo(JsonRpc.RESULT_TOO_LARGE);
    assertThat(error.at("/error/message").asText()).contains("1024 bytes", "rule 'mcp'");
    assertThat(f.tooLarge()).isTrue();
  }

  @Test
  void an_sse_event_over_the_limit_is_dropped_and_replaced_by_an_error_event() throws Exception {
    ResultFilter f = new ResultFilter(RULES, Set.of(), Set.of(IntNode.valueOf(9)));
    ResultFilter.Sse sse = f.sse();
    String big =
        "data: {\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\""
            + "x".repeat(5000)
            + "\"}]}}\n\n";
    String out = text(sse.feed(utf8(big))) + text(sse.finish());
    assertThat(out).doesNotContain("xxxx").startsWith("event: message\ndata: ");
    JsonNode error =
        JSON.readTree(
            out.lines().filter(l -> l.startsWith("data: ")).findFirst().orElseThrow().substring(6));
    assertThat(error.get("id").asInt()).isEqualTo(9);
    assertThat(error.at("/error/code").asInt()).isEqualTo(JsonRpc.RESULT_TOO_LARGE);
    // The stream goes on after the oversized event.
    assertThat(text(sse.feed(utf8("data: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n"))))
        .isEqualTo("data: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n");
  }
}
