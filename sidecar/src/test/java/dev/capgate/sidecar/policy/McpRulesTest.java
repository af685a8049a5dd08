package dev.capgate.sidecar.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.v1alpha1.ArgumentMatch;
import dev.capgate.api.v1alpha1.McpTool;
import dev.capgate.api.v1alpha1.McpTools;
import java.util.List;
import org.junit.jupiter.api.Test;

class McpRulesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static final McpRules RULES =
      new McpRules(
          "mcp",
          new McpTools(
              "/mcp",
              List.of(
                  new McpTool(
                      "create_issue",
                      List.of(
                          new ArgumentMatch("/repo", "acme/repo-a", null, null, null),
                          new ArgumentMatch("/title", null, null, "bug: *", null))),
                  new McpTool(
                      "label",
                      List.of(
                          new ArgumentMatch("/labels/0", null, List.of("bug", "docs"), null, null),
                          new ArgumentMatch("/count", null, null, null, "[1-9][0-9]?"))),
                  new McpTool("ping", null)),
              null));

  private static JsonNode args(String json) throws Exception {
    return JSON.readTree(json);
  }

  @Test
  void an_allowed_tool_with_matching_arguments_passes() throws Exception {
    assertThat(
            RULES.refusal("create_issue", args("{\"repo\":\"acme/repo-a\",\"title\":\"bug: x\"}")))
        .isNull();
    assertThat(RULES.refusal("label", args("{\"labels\":[\"docs\"],\"count\":12}"))).isNull();
    assertThat(RULES.refusal("ping", null)).isNull();
  }

  @Test
  void a_tool_not_named_is_refused_naming_rule_and_tool() {
    assertThat(RULES.refusal("delete_repo", null))
        .isEqualTo("tool 'delete_repo' is not allowed by rule 'mcp'");
    assertThat(RULES.refusal(null, null)).contains("not allowed");
  }

  @Test
  void each_matcher_refuses_what_it_does_not_match_without_showing_the_value() throws Exception {
    String wrongRepo =
        RULES.refusal("create_issue", args("{\"repo\":\"acme/secret-repo\",\"title\":\"bug: x\"}"));
    assertThat(wrongRepo)
        .contains("argument /repo", "rule 'mcp'", "must equal")
        .doesNotContain("secret-repo");
    assertThat(RULES.refusal("create_issue", args("{\"repo\":\"acme/repo-a\",\"title\":\"feat\"}")))
        .contains("/title", "glob");
    assertThat(RULES.refusal("label", args("{\"labels\":[\"wontfix\"],\"count\":1}")))
        .contains("/labels/0", "one of");
    assertThat(RULES.refusal("label", args("{\"labels\":[\"bug\"],\"count\":100}")))
        .contains("/count", "regex");
  }

  @Test
  void missing_null_and_structured_arguments_fail_their_condition() throws Exception {
    assertThat(RULES.refusal("create_issue", args("{\"title\":\"bug: x\"}"))).contains("/repo");
    assertThat(RULES.refusal("create_issue", args("{\"repo\":null,\"title\":\"bug: x\"}")))
        .contains("/repo");
    assertThat(
            RULES.refusal(
                "create_issue", args("{\"repo\":[\"acme/repo-a\"],\"title\":\"bug: x\"}")))
        .contains("/repo");
    assertThat(RULES.refusal("create_issue", null)).contains("/repo");
  }

  @Test
  void a_glob_is_literal_apart_from_star_and_question_mark() throws Exception {
    McpRules rules =
        new McpRules(
            "r",
            new McpTools(
                null,
                List.of(
                    new McpTool("t", List.of(new ArgumentMatch("/a", null, null, "a.b?*", null)))),
                null));
    assertThat(rules.refusal("t", args("{\"a\":\"a.bc\"}"))).isNull();
    assertThat(rules.refusal("t", args("{\"a\":\"a.bcdef\\n\"}"))).isNull();
    assertThat(rules.refusal("t", args("{\"a\":\"axbc\"}"))).isNotNull();
    assertThat(rules.refusal("t", args("{\"a\":\"a.b\"}"))).isNotNull();
    assertThat(rules.judges("/anything")).isTrue();
  }

  @Test
  void the_endpoint_pattern_says_which_posts_are_judged() {
    assertThat(RULES.judges("/mcp")).isTrue();
    assertThat(RULES.judges("/other")).isFalse();
    assertThat(RULES.maxResultBytes()).isEqualTo(McpTools.DEFAULT_MAX_RESULT_BYTES);
  }
}
