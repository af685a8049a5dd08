package dev.capgate.sidecar.init;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code iptables-save} / {@code iptables-restore --noflush}: the only impure part of init.
 */
public final class RulesApplier {
  private static final long TIMEOUT_SECONDS = 30;

  /** Init cannot do its job; the message says why in words an operator can act on. */
  public static final class InitFailure extends RuntimeException {
    public InitFailure(String message) {
      super(message);
    }
  }

  /** Current rules of the family, as iptables-save prints them. */
  public String save(IpFamily family) {
    Result r = run(List.of(family.saveCommand()), null);
    if (r.exitCode != 0) {
      throw failure(family.saveCommand(), r);
    }
    return r.stdout;
  }

  /** Applies the restore input; tables and chains not named in it stay as they are. */
  public void restore(IpFamily family, String rules) {
    // --wait: another agent (kubelet, a CNI plugin) may hold the xtables lock for a moment.
    Result r = run(List.of(family.restoreCommand(), "--noflush", "--wait", "10"), rules);
    if (r.exitCode != 0) {
      throw failure(family.restoreCommand(), r);
    }
  }

  /** IPv6 may be disabled in the kernel: then there is no IPv6 egress to intercept either. */
  public boolean ipv6Enabled() {
    return Files.isDirectory(Path.of("/proc/sys/net/ipv6"));
  }

  private static InitFailure failure(String command, Result r) {
    String err = (r.stderr + r.stdout).strip();
    String lower = err.toLowerCase();
    if (lower.contains("permission denied")
        || lower.contains("operation not permitted")
        || lower.contains("you must be root")) {
      return new InitFailure(
          command
              + " was refused: the init container needs the NET_ADMIN capability"
              + " (and NET_RAW) to write interception rules. "
              + command
              + " said: "
              + err);
    }
    return new InitFailure(command + " failed with exit code " + r.exitCode + ": " + err);
  }

  private record Result(int exitCode, String stdout, String stderr) {}

  private static Result run(List<String> command, String stdin) {
    Process process;
    try {
      process = new ProcessBuilder(command).start();
    } catch (IOException e) {
      throw new InitFailure(
          command.getFirst()
              + " could not be run ("
              + e.getMessage()
              + "): the init image needs iptables (nft or legacy) with "
              + command.getFirst()
              + " on PATH");
    }
    // Both pipes drained concurrently, so a chatty child never blocks on a full pipe.
    CompletableFuture<String> out =
        CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
    CompletableFuture<String> err =
        CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
    try (var in = process.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // The child exited early; its exit code and stderr say why.
    }
    try {
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new InitFailure(
            command.getFirst() + " did not finish within " + TIMEOUT_SECONDS + " s");
      }
      return new Result(process.exitValue(), out.join(), err.join());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new InitFailure("interrupted while running " + command.getFirst());
    }
  }

  private static String read(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
