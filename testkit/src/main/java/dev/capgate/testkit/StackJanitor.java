package dev.capgate.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns what the test kit leaves on the machine: one scratch directory per JVM, a record of every
 * child process, and the shutdown hook that stops them.
 *
 * <p>A JVM killed with SIGKILL (a failsafe timeout, a cancelled build) runs no shutdown hook, so
 * its etcd / kube-apiserver / bao would live on. Each child's pid is therefore recorded under the
 * JVM's scratch directory; the next JVM that uses the kit kills the children of JVMs that are gone
 * (only if the pid still runs the recorded binary, so a recycled pid is never touched) and deletes
 * their scratch directories.
 */
final class StackJanitor {
  private static final Logger LOG = LoggerFactory.getLogger(StackJanitor.class);
  private static final Path ROOT = Path.of(System.getProperty("java.io.tmpdir"), "capgate-testkit");
  private static final long SELF = ProcessHandle.current().pid();
  private static final Deque<Runnable> CLEANUPS = new ArrayDeque<>();
  private static Path jvmDir;

  private StackJanitor() {}

  /** A fresh directory for one component, under this JVM's scratch directory. */
  static synchronized Path newWorkDir(String component) {
    try {
      return Files.createTempDirectory(jvmDir(), component + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs {@code cleanup} at JVM exit; cleanups run last-registered first (stop before delete). */
  static synchronized void atExit(Runnable cleanup) {
    jvmDir();
    CLEANUPS.push(cleanup);
  }

  static synchronized void recordChild(ProcessHandle child, Path binary) {
    try {
      Files.writeString(pidsDir(jvmDir()).resolve(Long.toString(child.pid())), binary.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static synchronized void forgetChild(ProcessHandle child) {
    try {
      Files.deleteIfExists(pidsDir(jvmDir()).resolve(Long.toString(child.pid())));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path jvmDir() {
    if (jvmDir == null) {
      sweepOrphans();
      try {
        jvmDir = Files.createDirectories(ROOT.resolve(Long.toString(SELF)));
        Files.createDirectories(pidsDir(jvmDir));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Runtime.getRuntime()
          .addShutdownHook(new Thread(StackJanitor::runCleanups, "capgate-testkit-shutdown"));
    }
    return jvmDir;
  }

  private static Path pidsDir(Path dir) {
    return dir.resolve("pids");
  }

  private static void runCleanups() {
    List<Runnable> cleanups;
    synchronized (StackJanitor.class) {
      cleanups = List.copyOf(CLEANUPS);
      CLEANUPS.clear();
    }
    for (Runnable cleanup : cleanups) {
      try {
        cleanup.run();
      } catch (RuntimeException e) {
        LOG.warn("cleanup failed", e);
      }
    }
    deleteTree(jvmDir);
  }

  /** Kills children of dead test JVMs and removes their scratch directories. */
  private static void sweepOrphans() {
    if (!Files.isDirectory(ROOT)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(ROOT)) {
      for (Path dir : dirs.toList()) {
        long owner;
        try {
          owner = Long.parseLong(dir.getFileName().toString());
        } catch (NumberFormatException e) {
          continue;
        }
        if (owner == SELF || ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        killRecordedChildren(dir);
        deleteTree(dir);
      }
    } catch (IOException e) {
      LOG.warn("could not sweep {}", ROOT, e);
    }
  }

  private static void killRecordedChildren(Path dir) throws IOException {
    Path pids = pidsDir(dir);
    if (!Files.isDirectory(pids)) {
      return;
    }
    try (Stream<Path> files = Files.list(pids)) {
      for (Path file : files.toList()) {
        long pid = Long.parseLong(file.getFileName().toString());
        String binary = Files.readString(file).strip();
        Optional<ProcessHandle> child = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (child.isPresent() && child.get().info().command().map(binary::equals).orElse(false)) {
          LOG.warn(
              "killing orphaned {} (pid {}) left by dead test JVM {}",
              binary,
              pid,
              dir.getFileName());
          child.get().descendants().forEach(ProcessHandle::destroyForcibly);
          child.get().destroyForcibly();
        }
      }
    }
  }

  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // Best effort: a file still held open by a dying process is retried by the next
                  // sweep.
                }
              });
    } catch (IOException e) {
      LOG.warn("could not delete {}", dir, e);
    }
  }
}
