package dev.capgate.e2e;

import dev.capgate.testkit.ProcessResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * kubectl with the stack's kubeconfig. Every command and everything it printed goes to the {@link
 * Transcript}, which the suite greps for secrets at the end (and saves under target/).
 */
public final class Kubectl {
  private final Stack stack;

  public Kubectl(Stack stack) {
    this.stack = stack;
  }

  public ProcessResult run(String... args) {
    return run(null, Duration.ofSeconds(120), args);
  }

  public ProcessResult apply(String yaml) {
    return run(yaml.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60), "apply", "-f", "-")
        .orThrow();
  }

  public ProcessResult create(String yaml) {
    return run(yaml.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60), "create", "-f", "-")
        .orThrow();
  }

  /** {@code sh -c script} in the agent container (as the agent: uid 1000, no credentials). */
  public ProcessResult sh(String namespace, String pod, String script) {
    return run(
        null,
        Duration.ofSeconds(180),
        "-n",
        namespace,
        "exec",
        pod,
        "-c",
        "agent",
        "--",
        "sh",
        "-c",
        script);
  }

  /** Like {@link #sh} with {@code stdin} fed to the command. */
  public ProcessResult shWithInput(
      String namespace, String pod, byte[] stdin, Duration timeout, String script) {
    return run(
        stdin, timeout, "-n", namespace, "exec", "-i", pod, "-c", "agent", "--", "sh", "-c",
        script);
  }

  public ProcessResult run(byte[] stdin, Duration timeout, String... args) {
    List<String> command =
        new ArrayList<>(List.of(stack.kubectl(), "--kubeconfig", stack.kubeconfig()));
    command.addAll(List.of(args));
    long t0 = System.nanoTime();
    try {
      Process p = new ProcessBuilder(command).start();
      CompletableFuture<byte[]> out = drain(p.getInputStream());
      CompletableFuture<byte[]> err = drain(p.getErrorStream());
      try (OutputStream in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin);
        }
      } catch (IOException ignored) {
        // the command exited before reading its input: its exit code says why
      }
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
      ProcessResult result =
          new ProcessResult(
              p.isAlive() ? -1 : p.exitValue(),
              new String(out.join(), StandardCharsets.UTF_8),
              new String(err.join(), StandardCharsets.UTF_8));
      Transcript.record(
          "kubectl " + String.join(" ", args), result, Duration.ofNanos(System.nanoTime() - t0));
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Raw bytes of a command's stdout (large outputs, e.g. a tar stream), also kept for the sweep.
   */
  public byte[] bytes(Duration timeout, String... args) {
    List<String> command =
        new ArrayList<>(List.of(stack.kubectl(), "--kubeconfig", stack.kubeconfig()));
    command.addAll(List.of(args));
    try {
      Process p =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      p.getOutputStream().close();
      CompletableFuture<byte[]> out = drain(p.getInputStream());
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
      }
      return out.join();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static CompletableFuture<byte[]> drain(InputStream in) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (in;
              ByteArrayOutputStream buffer = new ByteArrayOutputStream()) {
            in.transferTo(buffer);
            return buffer.toByteArray();
          } catch (IOException e) {
            return new byte[0];
          }
        },
        Thread::startVirtualThread);
  }
}
