package dev.capgate.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository the tests run in: its root holds the chart whose files the tests share. */
final class Repository {
  private Repository() {}

  /**
   * The nearest directory at or above {@code user.dir} (the module under Maven) holding {@code
   * charts/capgate/Chart.yaml}.
   */
  static Path root() {
    Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("charts/capgate/Chart.yaml"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "no charts/capgate/Chart.yaml at or above " + start + ": run the tests in the repository");
  }
}
