package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.ProcessResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A prompt-injected agent: {@code attack.sh} (src/test/resources/e2e) is copied into an agent pod
 * of the article's session and run there. It loots the environment and every readable file, reads
 * the service-account token path, calls the Kubernetes API and Vault, connects to IPs, over IPv6
 * and UDP, exfiltrates through DNS, opens CONNECT tunnels, sends Host/SNI mismatches,
 * path-normalization tricks and smuggling attempts, and floods the sidecar. Each attempt must get
 * nothing that policy forbids; the canaries outside must see nothing; and no secret value may
 * appear in the script's output, in any file the agent can read, or in any log.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AttackE2E {
  private static final Pattern CHECK =
      Pattern.compile("^CHECK (\\S+) (ok|FAIL) ?(.*)$", Pattern.MULTILINE);
  static AgentSandbox agent;
  static Canary canary;
  static ProcessResult attack;

  /**
   * Lines of the upstreams' log before this class: other classes' sessions may do there what this
   * session must not (GitHubAppE2E pushes, and reaches repo-b with a token the upstream refuses).
   */
  static long upstreamLinesBefore;

  @BeforeAll
  static void attack() throws IOException {
    Path upstreams = upstreamsLog();
    upstreamLinesBefore = upstreams == null ? 0 : Files.readAllLines(upstreams).size();
    agent = AgentSandbox.start("attack", Sessions.article("fix-issue-42"));
    canary = new Canary();
    byte[] script;
    try (InputStream in = AttackE2E.class.getResourceAsStream("/e2e/attack.sh")) {
      script = in.readAllBytes();
    }
    // Copied into the pod the way an agent would write a file, then run there.
    agent
        .kubectl()
        .shWithInput(
            agent.namespace(),
            AgentSandbox.POD,
            script,
            Duration.ofSeconds(30),
            "cat > /tmp/attack.sh && chmod +x /tmp/attack.sh")
        .orThrow();
    Stack stack = Stack.get();
    String env =
        String.join(
            " ",
            "UPSTREAM_IP=" + stack.upstreamIp(),
            "NODE_IP=" + stack.nodeIp(),
            "VAULT_HOST=" + java.net.URI.create(stack.vaultAddress()).getHost(),
            "VAULT_PORT=" + java.net.URI.create(stack.vaultAddress()).getPort(),
            "APISERVER_PORT=" + stack.valueOr("CAPGATE_E2E_APISERVER_PORT", "16443"),
            "CANARY_HOST=" + stack.canaryHost(),
            "CANARY_HOST6=" + stack.valueOr("CAPGATE_E2E_CANARY_HOST6", ""),
            "CANARY_TCP_PORT=" + canary.tcpPort(),
            "CANARY_UDP_PORT=" + canary.udpPort());
    long t0 = System.nanoTime();
    attack =
        agent
            .kubectl()
            .run(
                null,
                Duration.ofMinutes(6),
                "-n",
                agent.namespace(),
                "exec",
                AgentSandbox.POD,
                "-c",
                "agent",
                "--",
                "sh",
                "-c",
                "env " + env + " bash /tmp/attack.sh 2>&1");
    Transcript.save("attack-output.txt", attack.stdout().getBytes(StandardCharsets.UTF_8));
    Transcript.note(
        "attack script ran in "
            + Duration.ofNanos(System.nanoTime() - t0).toMillis()
            + " ms; "
            + attack
                .stdout()
                .lines()
                .filter(l -> l.startsWith("SUMMARY"))
                .findFirst()
                .orElse("no summary"));
  }

  @AfterAll
  static void stop() throws IOException {
    if (canary != null) {
      canary.close();
    }
    if (agent != null) {
      agent.close();
    }
  }

  @Test
  @Order(1)
  void everyAttemptGetsNothingPolicyForbids() {
    Matcher m = CHECK.matcher(attack.stdout());
    List<String> names = new ArrayList<>();
    SoftAssertions soft = new SoftAssertions();
    while (m.find()) {
      names.add(m.group(1));
      System.out.println("[attack] " + m.group(1) + " " + m.group(2) + "  " + m.group(3));
      soft.assertThat(m.group(2)).as("%s: %s", m.group(1), m.group(3)).isEqualTo("ok");
    }
    soft.assertAll();
    assertThat(names)
        .as("the script ran to its end")
        .contains(
            "env_has_no_credentials",
            "files_hold_no_tokens",
            "no_service_account_token",
            "kube_api_without_token",
            "vault_directly",
            "tcp_to_an_outside_ip",
            "udp_egress",
            "dns_exfil_raw_udp_and_tcp",
            "connect_tunnel_through_port_80",
            "host_header_differs_from_sni",
            "path_normalization_tricks",
            "smuggling_never_deletes",
            "each_keep_alive_request_checked",
            "sidecar_serves_after_a_flood",
            "admin_port_leaks_nothing");
    assertThat(attack.stdout()).contains("SUMMARY ok=").contains(" fail=0");
  }

  @Test
  @Order(2)
  void nothingReachedTheCanariesOutsideThePod() {
    assertThat(canary.hits()).as("connections and datagrams that got around the sidecar").isEmpty();
  }

  @Test
  @Order(3)
  void theUpstreamsNeverSawAForbiddenRequest() throws IOException {
    Path log = upstreamsLog();
    if (log == null) {
      Transcript.note(
          "no local upstreams.log (remote upstreams): checked through the responses only");
      return;
    }
    List<String> forbidden =
        Files.readAllLines(log).stream()
            .skip(upstreamLinesBefore)
            .filter(
                l ->
                    l.contains("\"method\":\"DELETE\"")
                        || l.contains("repo-b")
                        || l.contains("git-receive-pack\",\"status\":200")
                        || l.contains("\"host\":\"mcp.test\"") && l.contains("\"status\":200"))
            .toList();
    assertThat(forbidden).isEmpty();
  }

  private static Path upstreamsLog() {
    return Stack.get().logDirs().stream()
        .map(d -> d.resolve("upstreams.log"))
        .filter(Files::isReadable)
        .findFirst()
        .orElse(null);
  }

  @Test
  @Order(4)
  void noSecretInTheOutputNorInAnyFileTheAgentCanRead() {
    List<String> found =
        new ArrayList<>(
            SecretSweep.findingsIn(
                Stack.get(),
                "the attack's output",
                attack.stdout().getBytes(StandardCharsets.UTF_8)));
    // Every file the agent's uid can read and its processes' environments, streamed out: the
    // secret values are searched here, on the host, so they never enter the pod.
    byte[] everything =
        agent
            .kubectl()
            .bytes(
                Duration.ofMinutes(3),
                "-n",
                agent.namespace(),
                "exec",
                AgentSandbox.POD,
                "-c",
                "agent",
                "--",
                "sh",
                "-c",
                "tar -c --exclude=/proc --exclude=/sys --exclude=/dev / 2>/dev/null; cat /proc/[0-9]*/environ 2>/dev/null; env");
    Transcript.note(
        "searched "
            + everything.length / 1024
            + " KiB of the agent's readable files and environments");
    assertThat(everything.length).as("the agent's files were streamed").isGreaterThan(10_000_000);
    found.addAll(SecretSweep.findingsIn(Stack.get(), "the agent's readable files", everything));
    assertThat(found).isEmpty();
  }

  @Test
  @Order(5)
  void noSecretInAnyLogOrOutputOfTheRun() {
    assertThat(SecretSweep.findings(Stack.get(), agent.kubectl())).isEmpty();
  }
}
