package dev.capgate.cli.status;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RecoveryTest {
  static final Instant ASKED = Instant.parse("2026-12-07T03:00:00Z");

  static JsonNode session(String status) throws Exception {
    return new ObjectMapper()
        .readTree("{\"metadata\":{\"name\":\"s\",\"namespace\":\"n\"},\"status\":" + status + "}");
  }

  @Test
  void completedOnlyForThisRequestOrALaterOne() throws Exception {
    String done =
        "{\"lastRecovery\":\"%s\",\"conditions\":[{\"type\":\"Recovered\",\"status\":\"True\",\"reason\":\"RecoveryCompleted\",\"message\":\"2 tokens, 1 lease revoked; 1 pod restarted\"}]}";
    assertThat(Recovery.state(session(done.formatted("2026-12-07T03:00:00Z")), ASKED))
        .isEqualTo(Recovery.State.COMPLETED);
    assertThat(Recovery.state(session(done.formatted("2026-12-07T03:00:00.000+00:00")), ASKED))
        .isEqualTo(Recovery.State.COMPLETED);
    // An earlier recovery is not this one.
    assertThat(Recovery.state(session(done.formatted("2026-12-07T02:59:59Z")), ASKED))
        .isEqualTo(Recovery.State.PENDING);
    assertThat(Recovery.message(session(done.formatted("2026-12-07T03:00:00Z"))))
        .isEqualTo("2 tokens, 1 lease revoked; 1 pod restarted");
  }

  @Test
  void failures() throws Exception {
    String failed =
        "{\"conditions\":[{\"type\":\"Recovered\",\"status\":\"False\",\"reason\":\"RecoveryFailed\",\"lastTransitionTime\":\"%s\",\"message\":\"Vault unreachable\"}]}";
    assertThat(Recovery.state(session(failed.formatted("2026-12-07T03:00:01Z")), ASKED))
        .isEqualTo(Recovery.State.FAILED);
    assertThat(Recovery.state(session(failed.formatted("2026-12-07T02:00:00Z")), ASKED))
        .isEqualTo(Recovery.State.PENDING);
  }

  @Test
  void anOperatorWithoutRecoveryLeavesItPending() throws Exception {
    assertThat(Recovery.state(session("{\"phase\":\"Active\"}"), ASKED))
        .isEqualTo(Recovery.State.PENDING);
    assertThat(Recovery.state(session("null"), ASKED)).isEqualTo(Recovery.State.PENDING);
  }
}
