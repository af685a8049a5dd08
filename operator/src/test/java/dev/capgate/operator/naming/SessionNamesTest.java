package dev.capgate.operator.naming;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SessionNamesTest {
  @Test
  void shortNamesArePrefixed() {
    assertThat(SessionNames.sidecarRbac("fix-42")).isEqualTo("capgate-sidecar-fix-42");
    assertThat(SessionNames.leases("fix-42")).isEqualTo("capgate-leases-fix-42");
  }

  @Test
  void longNamesAreShortenedStablyAndUniquely() {
    String a = "a".repeat(250);
    String b = "a".repeat(249) + "b";
    assertThat(SessionNames.leases(a))
        .hasSizeLessThanOrEqualTo(253)
        .isEqualTo(SessionNames.leases(a))
        .isNotEqualTo(SessionNames.leases(b))
        .matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
  }
}
