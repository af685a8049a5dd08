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

  /** Activity alone is written at most every 5 s per session; anything else at once. */
  @Test
  void activityAloneIsWrittenAtMostEveryFiveSeconds() {
    ActivityThrottle throttle = new ActivityThrottle();
    java.time.Instant t0 = java.time.Instant.parse("2026-12-07T10:00:00Z");
    var base =
        new dev.capgate.api.v1alpha1.AgentSessionStatus(
            dev.capgate.api.v1alpha1.Phase.Active, java.util.List.of(), null, 1, 1L);
    var one = base.withActivity(new SessionActivity(1L, 0L, null, null));
    var two = base.withActivity(new SessionActivity(2L, 0L, null, null));
    var three = base.withActivity(new SessionActivity(3L, 0L, null, null));

    assertThat(throttle.apply("u", null, base, t0).status()).as("a first status").isEqualTo(base);
    assertThat(throttle.apply("u", base, one, t0.plusSeconds(5)).status()).isEqualTo(one);
    t0 = t0.plusSeconds(5);
    ActivityThrottle.Decision held = throttle.apply("u", one, two, t0.plusSeconds(1));
    assertThat(held.status()).as("held back").isEqualTo(one);
    assertThat(held.later()).contains(t0.plusSeconds(5));
    assertThat(throttle.apply("u", one, two, t0.plusSeconds(5)).status()).isEqualTo(two);
    var twoWithMorePods =
        new dev.capgate.api.v1alpha1.AgentSessionStatus(
                dev.capgate.api.v1alpha1.Phase.Active, java.util.List.of(), null, 2, 1L)
            .withActivity(three.activity());
    assertThat(throttle.apply("u", two, twoWithMorePods, t0.plusSeconds(6)).status())
        .as("another change goes out at once, with the latest activity")
        .isEqualTo(twoWithMorePods);
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
