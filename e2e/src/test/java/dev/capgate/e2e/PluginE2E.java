package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.testkit.JsonSchemas;
import dev.capgate.testkit.ProcessResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code kubectl capgate} on the real cluster, as a user runs it: kubectl finds the plugin on PATH
 * ({@code cli/kubectl-capgate}, the launcher {@code make plugin} installs; the jar is built by
 * {@code make build}) and the plugin reads the same kubeconfig. After one allowed and one denied
 * call from an injected agent pod: {@code status} shows the session and its pod, {@code audit} both
 * decisions from the sidecar's log, and {@code explain} the denial by the request id the agent's
 * error body carried.
 */
class PluginE2E {
  static final Path LAUNCHER_DIR = Path.of("..", "cli").toAbsolutePath().normalize();
  static final ObjectMapper JSON = new ObjectMapper();
  @AutoClose // the secret sweep
  static AgentSandbox agent;
  static final Evidence EVIDENCE = new Evidence("kubectl-capgate.txt");

  @BeforeAll
  static void start() {
    assertThat(LAUNCHER_DIR.resolve("target/capgate-cli.jar"))
        .as("the plugin's jar (make plugin, or make build)")
        .exists();
    agent = AgentSandbox.start("plugin", Sessions.article("fix-issue-42"));
  }

  @Test
  void statusAuditAndExplainAfterAnAllowedAndADeniedCall() throws IOException {
    ProcessResult allowed =
        agent.sh("curl -sS -w '\\nHTTP %{http_code}' https://api.github.test/repos/acme/repo-a");
    assertThat(allowed.stdout()).contains("HTTP 200");
    ProcessResult denied =
        agent.sh(
            "curl -sS -w '\\nHTTP %{http_code}' -X DELETE https://api.github.test/repos/acme/repo-a");
    assertThat(denied.stdout()).contains("HTTP 403");
    String body = denied.stdout().substring(0, denied.stdout().lastIndexOf("\nHTTP"));
    String requestId = JSON.readTree(body).path("requestId").asText();
    assertThat(requestId).isNotBlank();

    ProcessResult status = capgate("status");
    EVIDENCE.command("status", "kubectl capgate status -n " + agent.namespace(), status);
    assertThat(status.exitCode()).as(status.stderr()).isZero();
    assertThat(status.stdout()).contains(agent.session(), "Active", "alice");

    // The sidecar writes audit lines from its own thread: wait until the denial is in the log.
    ProcessResult audit = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      audit = capgate("audit", agent.session());
      if (audit.exitCode() == 0 && audit.stdout().contains(requestId)) {
        break;
      }
      AgentSandbox.sleep(500);
    }
    EVIDENCE.command("audit", "kubectl capgate audit " + agent.session(), audit);
    assertThat(audit.exitCode()).as(audit.stderr()).isZero();
    assertThat(audit.stdout())
        .contains(requestId)
        .containsPattern(
            "allow +GET api\\.github\\.test/repos/acme/repo-a +github-api +github +200")
        .containsPattern("deny +DELETE api\\.github\\.test/repos/acme/repo-a");

    // The session in full: its pod, and the denial among the recent ones (from the same log).
    ProcessResult one = capgate("status", agent.session());
    EVIDENCE.command("status one", "kubectl capgate status " + agent.session(), one);
    assertThat(one.exitCode()).as(one.stderr()).isZero();
    assertThat(one.stdout())
        .containsPattern(AgentSandbox.POD + " +Running +\\d/\\d")
        .contains("Recent denials", requestId);

    ProcessResult json = capgate("audit", agent.session(), "-o", "json");
    assertThat(json.exitCode()).isZero();
    List<String> lines = json.stdout().lines().toList();
    assertThat(lines).isNotEmpty();
    for (String line : lines) {
      assertThat(JsonSchemas.violations(JsonSchemas.AUDIT, line)).as(line).isEmpty();
    }

    ProcessResult explain = capgate("explain", requestId);
    EVIDENCE.command("explain", "kubectl capgate explain " + requestId, explain);
    assertThat(explain.exitCode()).as(explain.stderr()).isZero();
    assertThat(explain.stdout())
        .contains("request    " + requestId)
        .contains("decision   deny")
        .contains("what       DELETE api.github.test/repos/acme/repo-a")
        .contains("rule       none (no egress rule matched)")
        .contains("problem    tag:capgate.dev,2026:problem:denied  (HTTP 403");

    assertThat(capgate("explain", "nosuch-1").exitCode()).isEqualTo(3);
  }

  /**
   * {@code kubectl capgate ARGS -n NAMESPACE}: the stack's kubectl with the launcher's directory on
   * PATH and the stack's kubeconfig in KUBECONFIG (kubectl hands a plugin its environment, not its
   * flags). Recorded in the transcript like every kubectl call.
   */
  static ProcessResult capgate(String... args) {
    return capgateIn(agent.namespace(), Stack.get().kubeconfig(), args);
  }

  /**
   * {@code kubectl capgate ARGS -n NAMESPACE} as whoever {@code kubeconfig} names (the issue-16
   * classes: another sandbox's namespace, an approver's identity).
   */
  static ProcessResult capgateIn(String namespace, String kubeconfig, String... args) {
    List<String> command = new ArrayList<>(List.of(Stack.get().kubectl(), "capgate"));
    command.addAll(List.of(args));
    command.addAll(List.of("-n", namespace));
    long t0 = System.nanoTime();
    try {
      ProcessBuilder pb = new ProcessBuilder(command);
      pb.environment().put("KUBECONFIG", kubeconfig);
      pb.environment()
          .put("PATH", LAUNCHER_DIR + java.io.File.pathSeparator + System.getenv("PATH"));
      Process p = pb.start();
      p.getOutputStream().close();
      CompletableFuture<byte[]> out = drain(p.getInputStream());
      CompletableFuture<byte[]> err = drain(p.getErrorStream());
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
      ProcessResult result =
          new ProcessResult(
              p.isAlive() ? -1 : p.exitValue(),
              new String(out.join(), StandardCharsets.UTF_8),
              new String(err.join(), StandardCharsets.UTF_8));
      Transcript.record(
          "kubectl capgate " + String.join(" ", args),
          result,
          Duration.ofNanos(System.nanoTime() - t0));
      return result;
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
            throw new UncheckedIOException(e);
          }
        });
  }

  static {
    // The launcher must be executable as checked out (git keeps the mode).
    Path launcher = LAUNCHER_DIR.resolve("kubectl-capgate");
    if (!Files.isExecutable(launcher)) {
      throw new IllegalStateException(launcher + " is not executable");
    }
  }
}
