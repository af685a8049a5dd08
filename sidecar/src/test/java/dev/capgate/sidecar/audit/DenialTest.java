package dev.capgate.sidecar.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class DenialTest {
  @Test
  void names_every_field_in_order() {
    assertThat(
            Denial.json(
                "denied", "api.github.com", "DELETE", "/repos/acme/repo-a", "github-api", "abc-1"))
        .isEqualTo(
            "{\"error\":\"denied\",\"host\":\"api.github.com\",\"method\":\"DELETE\","
                + "\"path\":\"/repos/acme/repo-a\",\"rule\":\"github-api\",\"requestId\":\"abc-1\"}");
  }

  @Test
  void unknown_fields_are_json_null() {
    assertThat(Denial.json("bad-path", null, null, null, null, "abc-2"))
        .isEqualTo(
            "{\"error\":\"bad-path\",\"host\":null,\"method\":null,\"path\":null,\"rule\":null,\"requestId\":\"abc-2\"}");
  }

  @Test
  void an_agent_controlled_path_cannot_break_out_of_its_string() throws Exception {
    String path = "/x\",\"rule\":\"admin\"}\n";

    JsonNode body =
        new ObjectMapper().readTree(Denial.json("denied", "h", "GET", path, null, "id"));

    assertThat(body.get("path").asText()).isEqualTo(path);
    assertThat(body.get("rule").isNull()).isTrue();
  }
}
