package dev.capgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BenchPod#stopAndAwaitExit} on a shell that behaves as a JVM with {@code
 * -XX:AOTCacheOutput} does: on SIGTERM it runs a child that writes a file, waits for it, then
 * exits.
 */
class BenchPodStopTest {
  @TempDir Path dir;

  /** A shell that, on SIGTERM, runs {@code onTerm} in a child and exits once it has; started. */
  private static Process writerOnExit(String onTerm) throws IOException {
    Process p =
        new ProcessBuilder(
                List.of(
                    "bash",
                    "-c",
                    "trap \"bash -c '"
                        + onTerm
                        + "'; exit 0\" TERM; echo ready;"
                        + " while :; do sleep 0.1; done"))
            .redirectErrorStream(true)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    assertThat(out.readLine()).isEqualTo("ready"); // the trap is set
    return p;
  }

  @Test
  void theCallerLooksOnlyOnceTheChildWritingAtExitIsDoneEvenPastStopsGrace() throws Exception {
    Path file = dir.resolve("cache");
    // Longer than stop()'s 10 s grace, as the AOT cache's assembly is on a loaded machine.
    Process p = writerOnExit("sleep 11; echo written > " + file);

    assertThat(BenchPod.stopAndAwaitExit(p, Duration.ofSeconds(60))).isTrue();

    assertThat(p.isAlive()).isFalse();
    assertThat(Files.readString(file)).isEqualTo("written\n");
  }

  @Test
  void pastTheTimeoutTheWholeTreeIsKilledAndItSaysSo() throws Exception {
    Process p = writerOnExit("sleep 60");

    assertThat(BenchPod.stopAndAwaitExit(p, Duration.ofSeconds(1))).isFalse();

    assertThat(p.isAlive()).isFalse();
    assertThat(p.descendants().toList()).isEmpty();
  }
}
