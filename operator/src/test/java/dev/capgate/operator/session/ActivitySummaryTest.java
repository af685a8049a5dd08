package dev.capgate.operator.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.SessionActivity;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ActivitySummaryTest {
  @Test
  void sumsTheActivityEntriesOnlyAndSkipsWhatDoesNotParse() {
    ConfigMap ledger =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName("capgate-leases-s")
            .endMetadata()
            .withData(
                Map.of(
                    "lease.0",
                    "pki/issue/a/1",
                    "accessor.0",
                    "abc",
                    LeaseLedger.activityKey("a"),
                    "{\"requests\":3,\"denials\":1}",
                    LeaseLedger.activityKey("b"),
                    "{\"requests\":4,\"unknown\":true}",
                    LeaseLedger.RETIRED_ACTIVITY_KEY,
                    "{\"requests\":10,\"denials\":2}",
                    LeaseLedger.activityKey("c"),
                    "not json"))
            .build();
    SessionActivity sum = ActivitySummary.of(ledger);
    assertThat(sum.requests()).isEqualTo(17);
    assertThat(sum.denials()).isEqualTo(3);
    assertThat(ActivitySummary.of(null)).isEqualTo(SessionActivity.NONE);
  }

  /** Only what is worth a reconcile: the operator's own status writes are not. */
  @Test
  void theRecoverAnnotationWakesTheReconcilerAStatusWriteDoesNot() {
    AgentSession old = session(1L, null);
    SessionUpdateFilter filter = new SessionUpdateFilter();
    assertThat(filter.accept(session(1L, null), old)).as("status only").isFalse();
    assertThat(filter.accept(session(2L, null), old)).as("spec").isTrue();
    assertThat(filter.accept(session(1L, "2026-12-07T10:00:00Z"), old)).as("recover").isTrue();
    assertThat(
            filter.accept(session(1L, "2026-12-07T10:00:00Z"), session(1L, "2026-12-07T10:00:00Z")))
        .isFalse();
  }

  private static AgentSession session(long generation, String recover) {
    AgentSession s = new AgentSession();
    s.getMetadata().setName("s");
    s.getMetadata().setGeneration(generation);
    if (recover != null) {
      s.getMetadata().setAnnotations(Map.of(AgentSession.RECOVER_ANNOTATION, recover));
    }
    return s;
  }
}
