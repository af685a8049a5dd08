package dev.capgate.cli.command;

import dev.capgate.testkit.TestClassPath;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * {@code kubectl capgate} as its own process (the real {@code Main} on the test class path), its
 * stdout read line by line as it is written: for a verb that does not end by itself ({@code audit
 * --follow}) and is stopped as a user stops it, with Ctrl-C.
 */
final class PluginProcess implements AutoCloseable {
  private final Process process;
  private final Path stderr;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> seen = new ArrayList<>();

  private PluginProcess(Process process, Path stderr) {
    this.process = process;
    this.stderr = stderr;
    Thread.ofVirtual()
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // the process is gone; what it wrote before is in lines
              }
            });
  }

  static PluginProcess start(Path kubeconfig, String namespace, String... args) throws IOException {
    // As the launcher (kubectl-capgate and the jar's manifest) runs it.
    // With SIGINT's default disposition, as a terminal's Ctrl-C finds it: a job started in the
    // background by a shell without job control (nohup ... &, a CI runner) inherits SIGINT
    // ignored, every process below it too, and a JVM that starts with SIGINT ignored keeps
    // ignoring it (the plugin then never stopped in a clean-clone make test run that way).
    List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT"));
    command.addAll(
        TestClassPath.javaCommand(
            "dev.capgate.cli.Main", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED"));
    command.addAll(List.of(args));
    command.addAll(List.of("--kubeconfig", kubeconfig.toString(), "-n", namespace));
    Path stderr = Files.createTempFile("kubectl-capgate", ".err");
    return new PluginProcess(
        new ProcessBuilder(command).redirectError(stderr.toFile()).start(), stderr);
  }

  /** The first line from now on that matches, within {@code timeout}. */
  String awaitLine(Predicate<String> match, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw new AssertionError(
            "no such line within " + timeout + "; stdout so far: " + seen + "; " + stderr());
      }
      seen.add(line);
      if (match.test(line)) {
        return line;
      }
    }
  }

  /** Every stdout line read so far, those {@link #awaitLine} passed over included. */
  List<String> linesSoFar() {
    lines.drainTo(seen);
    return List.copyOf(seen);
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Ctrl-C: SIGINT, as a terminal sends it. */
  void interrupt() throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -INT " + process.pid() + " failed");
    }
  }

  /** The exit code, once it has exited within {@code timeout}. */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("still running after " + timeout + "; " + stderr());
    }
    return process.exitValue();
  }

  String stderr() {
    try {
      return Files.readString(stderr);
    } catch (IOException e) {
      return "(stderr unreadable: " + e + ")";
    }
  }

  @Override
  public void close() throws IOException {
    process.destroyForcibly();
    Files.deleteIfExists(stderr);
  }
}
