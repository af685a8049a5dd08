package dev.capgate.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The commit a ref points to in a bare repository of the local Git host. */
final class GitHead {
  private GitHead() {}

  /** The commit {@code main} points to. */
  static String of(Path bareRepo) {
    return of(bareRepo, "refs/heads/main");
  }

  /** The commit {@code ref} points to, or "" when the repository has no such ref. */
  static String of(Path bareRepo, String ref) {
    try {
      Process p =
          new ProcessBuilder(
                  "git", "--git-dir", bareRepo.toString(), "rev-parse", "-q", "--verify", ref)
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      p.waitFor();
      return out;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
