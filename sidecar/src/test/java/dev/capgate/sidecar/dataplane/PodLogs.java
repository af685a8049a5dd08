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

  /**
   * The security sweep of a data-plane IT class, for its {@code @AfterAll} (JUnit closes the pod
   * after it): no log but upstream.log holds any of {@code values}, over the traffic of every test
   * of the class that ran, whichever ran and in whatever order. First {@code ownRequest} makes a
   * request of the sweep's own that injects the credentials, and the sweep waits for its audit line
   * (its normalized path is {@code ownPath}, used by no test): so the sweep never reads a run in
   * which no credential was injected, and, one thread writing the audit lines in order, the lines
   * of the requests before it are written when it reads.
   */
  static void sweep(PodNetns pod, Runnable ownRequest, String ownPath, Collection<String> values) {
    ownRequest.run();
    AuditLines.awaitPath(pod, ownPath);
    assertNoneHolds(pod, values);
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
