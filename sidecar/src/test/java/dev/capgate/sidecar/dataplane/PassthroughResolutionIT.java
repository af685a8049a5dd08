package dev.capgate.sidecar.dataplane;

import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.sidecar.netns.UpstreamServers;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code tls: passthrough} splices to where the SIDECAR resolves the server name (the pod spec's
 * hostAliases as passed by the webhook, then DNS), never to where the pod's shared /etc/hosts
 * points: an agent that rewrote it (a root agent can) aims the name at a canary in the upstream
 * network, and the canary must see nothing.
 */
class PassthroughResolutionIT {
  /** A second host of "the internet", where the rewritten /etc/hosts sends pypi.test. */
  private static final String CANARY = "198.18.0.3";

  /**
   * The upstream servers hold *:443, so the canary listens here and a DNAT sends CANARY:443 to it.
   */
  private static final int CANARY_PORT = 9443;

  private static final String CANARY_SERVER =
      """
      import socket
      s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
      s.bind(('%s', %d)); s.listen(16)
      print('listening', flush=True)
      while True:
          c, addr = s.accept()
          print('canary saw a connection from', addr[0], flush=True)
          c.close()
      """
          .formatted(CANARY, CANARY_PORT);

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  @BeforeAll
  static void startPod() throws IOException {
    pod = PodNetns.create("PassthroughResolutionIT");
    pod.runInit().requireSuccess();
    pod.addUpstreamAddress(CANARY);
    pod.inPeer(
            "iptables",
            "-t",
            "nat",
            "-A",
            "PREROUTING",
            "-d",
            CANARY,
            "-p",
            "tcp",
            "--dport",
            "443",
            "-j",
            "DNAT",
            "--to-destination",
            CANARY + ":" + CANARY_PORT)
        .requireSuccess();
    Path canary = pod.dir().resolve("canary.py");
    Files.writeString(canary, CANARY_SERVER);
    pod.startInPeer("canary.log", "listening", "python3", canary.toString());
    pod.startUpstreams(null);
    // What a root agent can do to the hosts file kubelet mounts into every container of the pod:
    // pypi.test now points at the canary. plain.test's line is what kubelet writes for the pod
    // spec's hostAliases entry below.
    pod.writePodHosts(
        "127.0.0.1 localhost\n::1 localhost\n"
            + CANARY
            + " pypi.test\n"
            + UpstreamServers.V6
            + " plain.test\n");
    pod.startSidecar(
        SessionSpecs.specOnly()
            .egress(
                rule("packages").hosts("pypi.test").passthrough(),
                rule("aliased").hosts("plain.test").ports(443).passthrough())
            .json(),
        null,
        List.of(
            "--host-aliases",
            "[{\"ip\":\"" + UpstreamServers.V6 + "\",\"hostnames\":[\"plain.test\"]}]"));
  }

  @Test
  void a_rewritten_hosts_file_does_not_move_a_passthrough_splice() {
    Command.Result r = curl("https://pypi.test/simple/hosts-file-attack");
    // The agent's libc followed /etc/hosts to the canary; the sidecar spliced to the real
    // pypi.test.
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    assertThat(UpstreamLog.lastRequest(pod, "/simple/hosts-file-attack")).isNotNull();
    JsonObject audit = AuditLines.awaitLast(pod, "pypi.test", "passthrough-destination-mismatch");
    System.out.println("audit: " + audit.encode());
    assertThat(audit.getString("reason")).contains("dialled " + CANARY, "to " + UpstreamServers.V4);
    assertThat(audit.getString("decision")).isEqualTo("allow");
    String canarySaw = pod.log("canary.log");
    System.out.println("canary log:\n" + canarySaw);
    assertThat(canarySaw).doesNotContain("canary saw");
  }

  @Test
  void the_pod_specs_host_aliases_still_apply_to_the_sidecar() {
    // DNS answers plain.test with the upstream's IPv4 address only; the alias says IPv6.
    Command.Result r = curl("https://plain.test/aliased");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    JsonObject saw = UpstreamLog.lastRequest(pod, "/aliased");
    assertThat(saw).as(pod.log("upstream.log")).isNotNull();
    // Vert.x prints the peer uncompressed: fd00:198:18:0:0:0:0:1:<port>, the pod's IPv6 address.
    assertThat(saw.getString("connection"))
        .as("the sidecar dialled the alias (IPv6)")
        .startsWith("fd00:198:18:0:0:0:0:1:");
    assertThat(AuditLines.matching(pod, "plain.test", "passthrough"))
        .extracting(a -> a.getString("reason"))
        .contains("passthrough");
  }

  // ------------------------------------------------------------------ helpers

  private static Command.Result curl(String url) {
    return AgentCurl.trusting(pod, pod.upstreamCaCert().toString(), url);
  }
}
