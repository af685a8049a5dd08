package dev.capgate.sidecar.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DenialTest {
  @Test
  void is_an_rfc_9457_problem_then_the_fields_answers_always_had() {
    assertThat(
            Denial.json(
                Problem.DENIED,
                "denied",
                "api.github.com",
                "DELETE",
                "/repos/acme/repo-a",
                "github-api",
                "abc-1"))
        .isEqualTo(
            "{\"type\":\"tag:capgate.dev,2026:problem:denied\","
                + "\"title\":\"Denied by the session's policy\",\"status\":403,"
                + "\"detail\":\"denied\",\"instance\":\"abc-1\","
                + "\"error\":\"denied\",\"host\":\"api.github.com\",\"method\":\"DELETE\","
                + "\"path\":\"/repos/acme/repo-a\",\"rule\":\"github-api\",\"requestId\":\"abc-1\"}");
  }

  @Test
  void unknown_extension_fields_are_json_null_and_advice_is_the_detail() throws Exception {
    JsonNode body =
        new ObjectMapper()
            .readTree(
                Denial.json(
                    Problem.BAD_REQUEST,
                    "bad-path",
                    null,
                    null,
                    null,
                    null,
                    "abc-2",
                    "send one Host header"));

    List<String> names = new ArrayList<>();
    body.fieldNames().forEachRemaining(names::add);
    assertThat(names)
        .containsExactly(
            "type",
            "title",
            "status",
            "detail",
            "instance",
            "error",
            "host",
            "method",
            "path",
            "rule",
            "requestId");
    assertThat(body.get("status").asInt()).isEqualTo(400);
    assertThat(body.get("detail").asText()).isEqualTo("send one Host header");
    assertThat(body.get("host").isNull()).isTrue();
  }

  @Test
  void every_problem_has_a_distinct_type_and_an_error_status() {
    assertThat(java.util.Arrays.stream(Problem.values()).map(Problem::type).distinct().count())
        .isEqualTo(Problem.values().length);
    for (Problem p : Problem.values()) {
      assertThat(p.type()).startsWith(Problem.TYPE_PREFIX).endsWith(p.token());
      assertThat(p.status()).isBetween(400, 599);
    }
    assertThat(Problem.upstream("upstream-timeout").status()).isEqualTo(504);
  }

  @Test
  void an_agent_controlled_path_cannot_break_out_of_its_string() throws Exception {
    String path = "/x\",\"rule\":\"admin\"}\n";

    JsonNode body =
        new ObjectMapper()
            .readTree(Denial.json(Problem.DENIED, "denied", "h", "GET", path, null, "id"));

    assertThat(body.get("path").asText()).isEqualTo(path);
    assertThat(body.get("rule").isNull()).isTrue();
  }
}
