package dev.capgate.sidecar.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.admin.AdminAccess.Answer;
import org.junit.jupiter.api.Test;

class AdminAccessTest {
  private final AdminAccess closed = new AdminAccess(false);
  private final AdminAccess scraped = new AdminAccess(true);

  @Test
  void the_pod_itself_reads_everything() {
    assertThat(closed.answer("/metrics", true)).isEqualTo(Answer.FULL);
    assertThat(closed.answer("/readyz", true)).isEqualTo(Answer.FULL);
    assertThat(closed.answer("/healthz", true)).isEqualTo(Answer.FULL);
    assertThat(closed.answer("/other", true)).isEqualTo(Answer.NOT_FOUND);
  }

  @Test
  void other_callers_get_health_status_codes_only() {
    assertThat(closed.answer("/readyz", false)).isEqualTo(Answer.STATUS_ONLY);
    assertThat(closed.answer("/healthz", false)).isEqualTo(Answer.STATUS_ONLY);
    assertThat(closed.answer("/metrics", false)).isEqualTo(Answer.NOT_FOUND);
    assertThat(closed.answer("/metrics/", false)).isEqualTo(Answer.NOT_FOUND);
    assertThat(closed.answer("/", false)).isEqualTo(Answer.NOT_FOUND);
  }

  @Test
  void the_flag_opens_metrics_and_nothing_more() {
    assertThat(scraped.answer("/metrics", false)).isEqualTo(Answer.FULL);
    assertThat(scraped.answer("/readyz", false)).isEqualTo(Answer.STATUS_ONLY);
    assertThat(scraped.answer("/other", false)).isEqualTo(Answer.NOT_FOUND);
  }

  @Test
  void loopback_is_recognised_in_every_spelling_and_nothing_else_is() {
    assertThat(AdminAccess.isLoopback("127.0.0.1")).isTrue();
    assertThat(AdminAccess.isLoopback("127.1.2.3")).isTrue();
    assertThat(AdminAccess.isLoopback("::1")).isTrue();
    assertThat(AdminAccess.isLoopback("::ffff:127.0.0.1")).isTrue();
    assertThat(AdminAccess.isLoopback("10.0.0.7")).isFalse();
    assertThat(AdminAccess.isLoopback("::ffff:10.0.0.7")).isFalse();
    assertThat(AdminAccess.isLoopback("fd00::1")).isFalse();
    assertThat(AdminAccess.isLoopback("localhost")).as("names are never trusted").isFalse();
    assertThat(AdminAccess.isLoopback(null)).isFalse();
  }
}
