package dev.capgate.e2e;

import dev.capgate.testkit.ProcessResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The evidence of one attack case, as it happens: the command that ran, what came back, and what
 * the canary outside the pod recorded. Printed (the test output is the report) and appended to
 * {@code target/e2e-logs/<file>} next to the transcript, which the secret sweep covers too.
 */
final class Evidence {
  private final String file;

  Evidence(String file) {
    this.file = file;
  }

  void command(String label, String command, ProcessResult result) {
    write(
        label,
        "$ "
            + command
            + "   [exit "
            + result.exitCode()
            + "]\n"
            + indent(result.stdout())
            + (result.stderr().isBlank() ? "" : "  -- stderr:\n" + indent(result.stderr())));
  }

  void canary(String label, List<String> hits) {
    write(
        label,
        "canary outside the pod: "
            + hits.size()
            + " connection(s)"
            + (hits.isEmpty() ? "" : " " + hits));
  }

  void note(String label, String text) {
    write(label, text);
  }

  private synchronized void write(String label, String text) {
    String block =
        ("[" + label + "] " + text).stripTrailing().replace("\n", "\n[" + label + "] ") + "\n";
    System.out.print(block);
    try {
      Files.createDirectories(Transcript.DIR);
      Files.writeString(
          Transcript.DIR.resolve(file),
          block,
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String indent(String s) {
    return s.isBlank() ? "" : ("  " + s.strip().replace("\n", "\n  ")) + "\n";
  }
}
