package dev.capgate.testkit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One real server process (etcd, kube-apiserver, bao, ...) that can be started, probed, stopped and
 * started again with the same arguments (ports, data directories), as outage tests need.
 *
 * <p>Output goes to {@code target/stack-logs/<name>.log} of the module that runs the tests: the
 * first start in a JVM truncates it, restarts append, so one file tells the whole story of a run.
 * Subclasses give the command line and a readiness probe; this class does the rest.
 */
public abstract class ManagedProcess {
  private static final Logger LOG = LoggerFactory.getLogger(ManagedProcess.class);
  private static final Set<Path> LOGS_STARTED_THIS_JVM = new HashSet<>();

  private final String name;
  private final Path logFile;
  private final Duration startTimeout;
  private Process process;
  private boolean cleanupRegistered;

  protected ManagedProcess(String name, Duration startTimeout) {
    this.name = name;
    this.logFile = logDir().resolve(name + ".log");
    this.startTimeout = startTimeout;
  }

  /**
   * {@code target/stack-logs} of the calling module ({@code user.dir} is the module under Maven).
   */
  public static Path logDir() {
    return Path.of(System.getProperty("user.dir"), "target", "stack-logs");
  }

  /** Logs of the components started in this JVM (older files in the directory may be stale). */
  public static List<Path> logsOfThisJvm() {
    synchronized (LOGS_STARTED_THIS_JVM) {
      return LOGS_STARTED_THIS_JVM.stream().sorted().toList();
    }
  }

  /** The full command line: binary first. Called on every start. */
  protected abstract List<String> command();

  /** True once the process serves; exceptions mean "not yet". Called every 100 ms during start. */
  protected abstract boolean ready() throws Exception;

  /** Extra state for error messages (e.g. the last /readyz body); empty by default. */
  protected String readinessDetail() {
    return "";
  }

  public String name() {
    return name;
  }

  public Path logFile() {
    return logFile;
  }

  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  public synchronized long pid() {
    if (process == null) {
      throw new IllegalStateException(name + " is not running");
    }
    return process.pid();
  }

  /**
   * Starts the process and blocks until {@link #ready()} or the start timeout (then it is stopped).
   */
  public synchronized void start() {
    if (isRunning()) {
      throw new IllegalStateException(name + " is already running (pid " + process.pid() + ")");
    }
    if (!cleanupRegistered) {
      StackJanitor.atExit(this::stop);
      cleanupRegistered = true;
    }
    List<String> command = command();
    long t0 = System.nanoTime();
    try {
      prepareLog(command);
      ProcessBuilder builder =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      customize(builder);
      process = builder.start();
      StackJanitor.recordChild(process.toHandle(), Path.of(command.getFirst()).toRealPath());
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + name + ": " + command, e);
    }
    try {
      Wait.until(
          name + " to become ready",
          startTimeout,
          () -> {
            if (!process.isAlive()) {
              throw new Wait.GiveUp(
                  name + " exited with code " + process.exitValue() + " during start-up");
            }
            return ready();
          },
          this::diagnostics);
    } catch (Wait.GiveUp e) {
      stop();
      throw new IllegalStateException(e.getMessage() + "\n" + diagnostics(), e);
    } catch (RuntimeException e) {
      stop();
      throw e;
    }
    LOG.info(
        "{} ready in {} ms (pid {}, log {})",
        name,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        process.pid(),
        logFile);
  }

  /** How long {@link #stop()} waits after SIGTERM before SIGKILL. */
  protected Duration stopGrace() {
    return Duration.ofSeconds(10);
  }

  /** Hook for environment variables or a working directory. */
  protected void customize(ProcessBuilder builder) {}

  /** SIGTERM, then SIGKILL after a grace period; children of the process go with it. Idempotent. */
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    Process p = process;
    process = null;
    List<ProcessHandle> descendants = p.descendants().toList();
    p.destroy();
    try {
      if (!p.waitFor(stopGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.info(
            "{} did not stop within {} ms of SIGTERM, killing it", name, stopGrace().toMillis());
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    StackJanitor.forgetChild(p.toHandle());
    appendToLog(
        "=== "
            + Instant.now()
            + " stopped "
            + name
            + " (exit code "
            + (p.isAlive() ? "?" : p.exitValue())
            + ")");
  }

  /** Last {@code lines} lines of the log, for error messages. */
  public String logTail(int lines) {
    return tail(logFile, lines);
  }

  private String diagnostics() {
    String detail = readinessDetail();
    return (detail.isEmpty() ? "" : detail + "\n")
        + "--- last 40 lines of "
        + logFile
        + " ---\n"
        + logTail(40);
  }

  private void prepareLog(List<String> command) throws IOException {
    Files.createDirectories(logFile.getParent());
    synchronized (LOGS_STARTED_THIS_JVM) {
      if (LOGS_STARTED_THIS_JVM.add(logFile)) {
        Files.deleteIfExists(logFile);
      }
    }
    appendToLog("=== " + Instant.now() + " starting " + name + ": " + String.join(" ", command));
  }

  private void appendToLog(String line) {
    try {
      Files.writeString(
          logFile,
          line + "\n",
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      LOG.warn("could not write to {}", logFile, e);
    }
  }

  static String tail(Path file, int lines) {
    if (!Files.exists(file)) {
      return "(no log at " + file + ")";
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long length = raf.length();
      int chunk = (int) Math.min(length, 64 * 1024);
      byte[] bytes = new byte[chunk];
      raf.seek(length - chunk);
      raf.readFully(bytes);
      String[] all = new String(bytes, StandardCharsets.UTF_8).split("\n");
      List<String> last =
          new ArrayList<>(List.of(all).subList(Math.max(0, all.length - lines), all.length));
      return String.join("\n", last);
    } catch (IOException e) {
      return "(could not read " + file + ": " + e + ")";
    }
  }
}
