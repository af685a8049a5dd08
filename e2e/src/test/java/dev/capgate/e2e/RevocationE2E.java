package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.ProcessResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code kubectl delete agentsession} while the agent is busy: one keep-alive HTTPS connection
 * sends a request every 20 ms. The open connection must be cut, every later request denied, the
 * sidecar's Vault token revoked and the pod CA destroyed. The delay from the delete to the first
 * denial is measured and printed (not asserted: it depends on the machine).
 */
class RevocationE2E {
  private static final String POLLER =
      """
      import socket, ssl, sys, time
      def now(): return "%.3f" % time.time()
      ctx = ssl.create_default_context()
      def connect():
          s = ctx.wrap_socket(socket.create_connection(("api.github.test", 443), timeout=5), server_hostname="api.github.test")
          return s, s.makefile("rb")
      s, f = connect()
      print(now(), "connected", flush=True)
      end = None
      ok = 0
      while end is None or time.time() < end:
          try:
              s.sendall(b"GET /repos/acme/repo-a HTTP/1.1\\r\\nHost: api.github.test\\r\\n\\r\\n")
              status = f.readline().decode().strip()
              if not status:
                  raise ConnectionError("closed by the sidecar")
              length = 0
              while True:
                  h = f.readline().decode().strip()
                  if not h: break
                  if h.lower().startswith("content-length:"): length = int(h.split(":")[1])
              f.read(length)
              print(now(), "keepalive", status, flush=True)
              if status.startswith("HTTP/1.1 200"):
                  ok += 1
                  if ok == 15: open("/tmp/revocation-poller-ready", "w").close()
              if not status.startswith("HTTP/1.1 200") and end is None:
                  end = time.time() + 2
          except Exception as e:
              print(now(), "keepalive-ended", type(e).__name__, str(e)[:80], flush=True)
              if end is None: end = time.time() + 2
              try:
                  s, f = connect(); print(now(), "reconnected", flush=True)
              except Exception as e2:
                  print(now(), "new-connection-refused", type(e2).__name__, str(e2)[:80], flush=True)
                  time.sleep(0.2)
          time.sleep(0.02)
      """;
  @AutoClose // the secret sweep
  static AgentSandbox agent;

  @BeforeAll
  static void start() {
    agent = AgentSandbox.start("revoke", Sessions.article("fix-issue-42"));
  }

  @Test
  void deletingTheSessionCutsOpenConnectionsAndDeniesTheNextRequest() {
    String ca =
        agent
            .kubectl()
            .run(
                "-n",
                agent.namespace(),
                "get",
                "pod",
                AgentSandbox.POD,
                "-o",
                "jsonpath={.metadata.annotations.capgate\\.dev/ca}")
            .stdout();
    assertThat(agent.kubectl().run("-n", agent.namespace(), "get", "secret", ca).exitCode())
        .as("pod CA %s exists", ca)
        .isZero();

    CompletableFuture<ProcessResult> poller =
        CompletableFuture.supplyAsync(
            () ->
                agent
                    .kubectl()
                    .shWithInput(
                        agent.namespace(),
                        AgentSandbox.POD,
                        POLLER.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        Duration.ofSeconds(90),
                        "python3 -u -"));
    // The poller marks a file once 15 requests passed on its connection: a fixed sleep was too
    // short on a loaded node (the connection came up 0.3 s before the delete).
    long readyBy = System.currentTimeMillis() + 60_000;
    while (agent
            .kubectl()
            .sh(agent.namespace(), AgentSandbox.POD, "test -f /tmp/revocation-poller-ready")
            .exitCode()
        != 0) {
      assertThat(System.currentTimeMillis())
          .as("the poller got 15 answers on its keep-alive connection within 60 s")
          .isLessThan(readyBy);
      AgentSandbox.sleep(200);
    }
    long deletedAt = System.currentTimeMillis();
    agent
        .kubectl()
        .run("-n", agent.namespace(), "delete", "agentsession", agent.session(), "--wait=false")
        .orThrow();
    long acceptedAt = System.currentTimeMillis(); // the API server has marked the session deleted
    ProcessResult result = poller.join();
    List<String> events = result.stdout().lines().toList();

    long firstDenial = -1;
    int allowedBefore = 0;
    List<String> after = new ArrayList<>();
    for (String e : events) {
      String[] parts = e.split(" ", 3);
      long t = (long) (Double.parseDouble(parts[0]) * 1000);
      boolean allowed = e.contains("keepalive HTTP/1.1 200");
      if (t < deletedAt && allowed) {
        allowedBefore++;
      }
      if (t >= deletedAt && !allowed && firstDenial < 0) {
        firstDenial = t;
      }
      if (t >= deletedAt) {
        after.add(e);
      }
    }
    String delay =
        firstDenial < 0
            ? "no denial seen"
            : (firstDenial - deletedAt)
                + " ms after `kubectl delete` started, "
                + (firstDenial - acceptedAt)
                + " ms after it returned (kubectl itself took "
                + (acceptedAt - deletedAt)
                + " ms)";
    Transcript.note(
        "revocation: "
            + allowedBefore
            + " requests allowed before the delete; first denial "
            + delay
            + "; then: "
            + String.join(
                " | ", after.stream().filter(e -> !e.contains(" 200 ")).limit(4).toList()));
    System.out.println("[e2e] REVOCATION DELAY: " + delay);

    assertThat(allowedBefore)
        .as("the keep-alive connection worked before the delete")
        .isGreaterThan(10);
    assertThat(firstDenial).as("a denial after the delete: %s", after).isGreaterThan(0);
    assertThat(after)
        .as("the open connection was cut or answered 403")
        .anyMatch(e -> e.contains("keepalive-ended") || e.contains("keepalive HTTP/1.1 403"));
    int lastAllowed = -1;
    for (int i = 0; i < after.size(); i++) {
      if (after.get(i).contains("HTTP/1.1 200")) {
        lastAllowed = i;
      }
    }
    int firstDeniedIndex = -1;
    for (int i = 0; i < after.size(); i++) {
      if (!after.get(i).contains("HTTP/1.1 200")) {
        firstDeniedIndex = i;
        break;
      }
    }
    assertThat(lastAllowed)
        .as("nothing allowed once the first denial came: %s", after)
        .isLessThan(firstDeniedIndex);

    ProcessResult next =
        agent.sh(
            "curl -sS -m 10 -w ' HTTP %{http_code}' https://api.github.test/repos/acme/repo-a 2>&1");
    assertThat(next.stdout()).doesNotContain("HTTP 200").doesNotContain("full_name");

    String log = agent.sidecarLog();
    log.lines()
        .filter(l -> l.contains("denying all traffic"))
        .findFirst()
        .ifPresent(
            l -> {
              java.util.regex.Matcher ts =
                  java.util.regex.Pattern.compile("\"time\":\"([^\"]+)\"").matcher(l);
              if (ts.find()) {
                long gate = java.time.Instant.parse(ts.group(1)).toEpochMilli();
                Transcript.note(
                    "REVOCATION: the sidecar switched to deny "
                        + (gate - deletedAt)
                        + " ms after `kubectl delete` started ("
                        + (gate - acceptedAt)
                        + " ms after it returned), by its own log");
              }
            });
    assertThat(log).contains("revoked the sidecar's Vault token");
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline
        && agent
                .kubectl()
                .run("-n", agent.namespace(), "get", "agentsession", agent.session())
                .exitCode()
            == 0) {
      AgentSandbox.sleep(500);
    }
    assertThat(
            agent
                .kubectl()
                .run("-n", agent.namespace(), "get", "agentsession", agent.session())
                .exitCode())
        .as("the session is gone (finalizer done)")
        .isNotZero();
    assertThat(agent.kubectl().run("-n", agent.namespace(), "get", "secret", ca).exitCode())
        .as("pod CA %s destroyed", ca)
        .isNotZero();
  }
}
