package dev.capgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The image build's AOT training run ({@code capgate-sidecar aot-train}): it must succeed wherever
 * an image is built (loopback only, no iptables, no root needed), since a failing run ships an
 * image without its cache; and it must leave nothing behind (its CA key lives in a temp dir).
 */
class AotTrainingIT {
  @Test
  void trainingRunsTheInterceptedRequestSetAndExitsZero() throws Exception {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    long before = trainingDirs(tmp);

    assertThat(AotTraining.run()).as("aot-train exit code").isZero();

    assertThat(trainingDirs(tmp)).as("temporary training directories left").isEqualTo(before);
  }

  private static long trainingDirs(Path tmp) throws Exception {
    try (Stream<Path> list = Files.list(tmp)) {
      return list.filter(p -> p.getFileName().toString().startsWith("capgate-aot-train")).count();
    }
  }
}
