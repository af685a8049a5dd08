package dev.capgate.e2e;

import dev.capgate.testkit.ProcessResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * Everything the suite ran and everything it got back, in {@code target/e2e-logs/transcript.log}:
 * to read after a failure, and to grep for every secret value (no secret may come back).
 */
public final class Transcript {
  static final Path DIR = Path.of("target", "e2e-logs");
  static final Path FILE = DIR.resolve("transcript.log");

  private Transcript() {}

  public static synchronized void record(String command, ProcessResult result, Duration took) {
    write(
        "$ "
            + command
            + "   [exit "
            + result.exitCode()
            + ", "
            + took.toMillis()
            + " ms]\n"
            + indent(result.stdout())
            + (result.stderr().isBlank() ? "" : "  -- stderr:\n" + indent(result.stderr()))
            + "\n");
  }

  public static synchronized void note(String text) {
    write("# " + text + "\n");
    System.out.println("[e2e] " + text);
  }

  /** Saves a blob (a log, an attack's output) next to the transcript; it is swept like the rest. */
  public static synchronized Path save(String name, byte[] content) {
    try {
      Files.createDirectories(DIR);
      Path p = DIR.resolve(name);
      Files.write(p, content);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(String text) {
    try {
      Files.createDirectories(DIR);
      Files.writeString(
          FILE, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String indent(String s) {
    return s.isEmpty() ? "" : ("  " + s.replace("\n", "\n  ")).stripTrailing() + "\n";
  }
}
