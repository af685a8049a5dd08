package dev.capgate.sidecar.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.v1alpha1.Phase;
import org.junit.jupiter.api.Test;

/** A spec field this sidecar does not know is reported, never silently dropped. */
class SessionReaderTest {
  private static final SessionReader READER = new SessionReader();

  // JSON as the API server sends it, not AgentSessionBuilder: the test is about fields the API's
  // types do not have (an unknown spec field, a status field from a newer operator), which the
  // builder cannot write.
  private static JsonNode resource(String ruleExtra) {
    try {
      return new ObjectMapper()
          .readTree(
              """
              {"apiVersion": "capgate.dev/v1alpha1", "kind": "AgentSession",
               "metadata": {"name": "fix-42", "namespace": "agents", "uid": "u-1",
                            "generation": 4, "resourceVersion": "812",
                            "creationTimestamp": "2026-01-01T10:00:00Z"},
               "spec": {"user": "alice@example.com", "agent": "coding-agent",
                        "egress": [{"name": "api", "hosts": ["api.example.com"]%s}]},
               "status": {"phase": "Active", "pods": 1, "addedByANewerOperator": true}}
              """
                  .formatted(ruleExtra));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void a_known_spec_reads_as_the_typed_session_and_unknown_status_fields_do_not_matter() {
    SessionReader.Read read = READER.read(resource(""));

    assertThat(read.specProblem()).isNull();
    assertThat(read.session().spec().egress().getFirst().hosts())
        .containsExactly("api.example.com");
    assertThat(read.session().phase()).isEqualTo(Phase.Active);
    assertThat(read.session().uid()).isEqualTo("u-1");
    assertThat(read.session().generation()).isEqualTo(4);
    assertThat(read.session().resourceVersion()).isEqualTo("812");
    assertThat(read.session().where()).isEqualTo("agents/fix-42");
    assertThat(read.session().creationTimestamp()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(read.session().deletionTimestamp()).isNull();
  }

  @Test
  void an_unknown_spec_field_is_named_and_the_session_denied() {
    SessionReader.Read read = READER.read(resource(", \"deniedPaths\": [\"/admin/**\"]"));

    assertThat(read.specProblem()).contains("spec.egress[0].deniedPaths").contains("denying");
    assertThat(read.session().spec().egress())
        .as("read leniently for ttl and attribution")
        .hasSize(1);
    assertThat(
            SessionDecision.decide(
                read.session(),
                read.specProblem(),
                "u-1",
                java.time.Instant.parse("2026-01-01T10:00:01Z")))
        .isEqualTo(new SessionDecision.Deny(read.specProblem(), false));
  }
}
