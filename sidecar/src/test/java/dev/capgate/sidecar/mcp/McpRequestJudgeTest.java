package dev.capgate.sidecar.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.v1alpha1.ArgumentMatch;
import dev.capgate.api.v1alpha1.McpTool;
import dev.capgate.api.v1alpha1.McpTools;
import dev.capgate.sidecar.policy.McpRules;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class McpRequestJudgeTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static final McpRules RULES =
      new McpRules(
          "mcp-issues",
          new McpTools(
              null,
              List.of(
                  new McpTool(
                      "create_issue",
                      List.of(new ArgumentMatch("/repo", "acme/repo-a", null, null, null)))),
              null));

  private static McpVerdict judge(String body) {
    return McpRequestJudge.judge(RULES, body.getBytes(StandardCharsets.UTF_8));
  }

  private static String call(Object id, String tool, String repo) {
    return "{\"jsonrpc\":\"2.0\",\"id\":"
        + id
        + ",\"method\":\"tools/call\",\"params\":{\"name\":\""
        + tool
        + "\",\"arguments\":{\"repo\":\""
        + repo
        + "\"}}}";
  }

  private static JsonNode answer(McpVerdict verdict) throws Exception {
    return JSON.readTree(((McpVerdict.Refuse) verdict).body());
  }

  @Test
  void an_allowed_call_goes_upstream_and_its_answer_is_watched() {
    McpVerdict v = judge(call(7, "create_issue", "acme/repo-a"));
    assertThat(v).isInstanceOf(McpVerdict.Forward.class);
    McpVerdict.Forward f = (McpVerdict.Forward) v;
    assertThat(f.callIds()).extracting(JsonNode::asInt).containsExactly(7);
    assertThat(f.outcomes()).containsExactly(new ToolCallOutcome("create_issue", "allowed"));
    assertThat(f.auditReason()).isEqualTo("mcp: tools/call 'create_issue' allowed");
  }

  @Test
  void a_denied_tool_is_a_json_rpc_error_with_the_same_id_naming_rule_and_reason()
      throws Exception {
    McpVerdict v = judge(call("\"a-1\"", "delete_repo", "acme/repo-a"));
    McpVerdict.Refuse r = (McpVerdict.Refuse) v;
    assertThat(r.status()).isEqualTo(200);
    JsonNode error = answer(v);
    assertThat(error.get("jsonrpc").asText()).isEqualTo("2.0");
    assertThat(error.get("id").asText()).isEqualTo("a-1");
    assertThat(error.at("/error/code").asInt()).isEqualTo(JsonRpc.POLICY_DENIED);
    assertThat(error.at("/error/message").asText())
        .isEqualTo(
            "capgate: tools/call denied: tool 'delete_repo' is not allowed by rule 'mcp-issues'");
    assertThat(error.at("/error/data/rule").asText()).isEqualTo("mcp-issues");
    assertThat(r.outcomes()).containsExactly(new ToolCallOutcome("(other)", "tool-denied"));
    assertThat(r.auditReason()).startsWith("mcp-tool-denied: tool 'delete_repo'");
  }

  @Test
  void mismatching_arguments_are_refused_without_their_value_in_answer_or_audit() throws Exception {
    McpVerdict v = judge(call(1, "create_issue", "acme/s3cr3t"));
    McpVerdict.Refuse r = (McpVerdict.Refuse) v;
    assertThat(answer(v).at("/error/message").asText()).contains("argument /repo");
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).doesNotContain("s3cr3t");
    assertThat(r.auditReason()).startsWith("mcp-arguments-denied").doesNotContain("s3cr3t");
    assertThat(r.outcomes())
        .containsExactly(new ToolCallOutcome("create_issue", "arguments-denied"));
  }

  @Test
  void a_batch_with_one_denied_call_is_refused_whole_every_request_answered() throws Exception {
    String batch =
        "["
            + call(1, "create_issue", "acme/repo-a")
            + ","
            + call(2, "delete_repo", "x")
            + ",{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}"
            + ",{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}]";
    McpVerdict v = judge(batch);
    JsonNode answers = answer(v);
    assertThat(answers.isArray()).isTrue();
    assertThat(answers).hasSize(3); // the notification gets no answer
    assertThat(answers.get(0).get("id").asInt()).isEqualTo(2);
    assertThat(answers.get(0).at("/error/message").asText()).contains("delete_repo");
    assertThat(answers.get(1).get("id").asInt()).isEqualTo(1);
    assertThat(answers.get(1).at("/error/message").asText()).contains("refused whole");
    assertThat(answers.get(2).get("id").asInt()).isEqualTo(3);
    assertThat(((McpVerdict.Refuse) v).auditReason()).contains("batch of 4 refused whole");
  }

  @Test
  void an_allowed_batch_goes_upstream_with_its_list_and_call_ids() {
    String batch =
        "["
            + call(1, "create_issue", "acme/repo-a")
            + ",{\"jsonrpc\":\"2.0\",\"id\":\"l\",\"method\":\"tools/list\"}]";
    McpVerdict.Forward f = (McpVerdict.Forward) judge(batch);
    assertThat(f.listIds()).extracting(JsonNode::asText).containsExactly("l");
    assertThat(f.callIds()).extracting(JsonNode::asInt).containsExactly(1);
  }

  @Test
  void notifications_responses_and_other_methods_pass() {
    assertThat(judge("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"))
        .isInstanceOf(McpVerdict.Forward.class);
    assertThat(judge("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}"))
        .isInstanceOf(McpVerdict.Forward.class);
    McpVerdict.Forward init =
        (McpVerdict.Forward)
            judge("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{}}");
    assertThat(init.checksResponse()).isFalse();
  }

  @Test
  void a_denied_call_sent_as_a_notification_gets_202_and_no_body() {
    McpVerdict.Refuse r =
        (McpVerdict.Refuse)
            judge(
                "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"delete_repo\"}}");
    assertThat(r.status()).isEqualTo(202);
    assertThat(r.body()).isEmpty();
  }

  @Test
  void non_json_an_empty_batch_and_non_objects_are_400_json_rpc_errors() throws Exception {
    McpVerdict.Refuse notJson = (McpVerdict.Refuse) judge("not json {");
    assertThat(notJson.status()).isEqualTo(400);
    assertThat(answer(notJson).at("/error/code").asInt()).isEqualTo(JsonRpc.PARSE_ERROR);
    assertThat(answer(notJson).get("id").isNull()).isTrue();
    McpVerdict.Refuse empty = (McpVerdict.Refuse) judge("[]");
    assertThat(answer(empty).at("/error/code").asInt()).isEqualTo(JsonRpc.INVALID_REQUEST);
    assertThat(((McpVerdict.Refuse) judge("[1,2]")).status()).isEqualTo(400);
    assertThat(((McpVerdict.Refuse) judge("")).status()).isEqualTo(400);
  }

  @Test
  void deep_nesting_is_refused_as_not_json() {
    String deep = "[".repeat(1000) + "]".repeat(1000);
    assertThat(((McpVerdict.Refuse) judge(deep)).status()).isEqualTo(400);
  }

  @Test
  void too_large_is_413() {
    assertThat(((McpVerdict.Refuse) McpRequestJudge.tooLarge(RULES)).status()).isEqualTo(413);
  }
}
