package dev.capgate.sidecar.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.PodNetns;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;

/** Checks over every log a pod's processes wrote. */
final class PodLogs {
  private PodLogs() {}

  /**
   * Fails when any log but upstream.log (the upstream is supposed to receive the credentials) holds
   * one of {@code values}.
   */
  static void assertNoneHolds(PodNetns pod, String... values) {
    assertNoneHolds(pod, List.of(values));
  }

  static void assertNoneHolds(PodNetns pod, Collection<String> values) {
    for (Path log : pod.logFiles()) {
      if (log.getFileName().toString().equals("upstream.log")) {
        continue;
      }
      String text;
      try {
        text = Files.readString(log);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      for (String value : values) {
        assertThat(text).as(log + " holds " + value).doesNotContain(value);
      }
    }
  }
}
