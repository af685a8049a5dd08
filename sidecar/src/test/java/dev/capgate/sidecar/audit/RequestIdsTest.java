package dev.capgate.sidecar.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RequestIdsTest {
  @Test
  void ids_are_unique_short_and_readable() {
    RequestIds ids = new RequestIds();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200_000; i++) {
      String id = ids.next();
      assertThat(seen.add(id)).as("unique: %s", id).isTrue();
    }
    assertThat(seen)
        .allSatisfy(
            id -> {
              assertThat(id).matches("[0-9a-hjkmnp-tv-z]{8}-[0-9a-hjkmnp-tv-z]{1,4}");
            });
  }

  @Test
  void two_generators_have_different_prefixes() {
    String a = new RequestIds().next();
    String b = new RequestIds().next();

    assertThat(a.substring(0, 9)).isNotEqualTo(b.substring(0, 9));
  }
}
