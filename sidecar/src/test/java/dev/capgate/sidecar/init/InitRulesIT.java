package dev.capgate.sidecar.init;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real init command in a real network namespace: idempotence, clear failures, and inbound
 * traffic from a peer (the upstream namespace, "another pod") against canary servers of the agent.
 */
class InitRulesIT {
  /** The port the pod declares (as the webhook would pass it from the annotation or a probe). */
  private static final int DECLARED = 8080;

  /** Served by the agent but not declared: a peer must not reach it. */
  private static final int UNDECLARED = 7000;

  private static final int UDP_PORT = 7001;
  private static final String[] INIT_FLAGS = {"--inbound-ports", String.valueOf(DECLARED)};

  /**
   * The agent's servers: on TCP {@code DECLARED} and {@code UNDECLARED} (dual stack) each accepted
   * connection gets "agent-data" and whatever the peer sends is logged; UDP datagrams on {@code
   * UDP_PORT} are logged too. A line "saw ..." means the peer got in.
   */
  private static final String CANARY =
      """
      import socket, threading, sys
      def tcp(port):
          s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
          s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
          s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
          s.bind(('::', port)); s.listen(16)
          while True:
              c, addr = s.accept()
              c.sendall(b'agent-data\\n')
              c.settimeout(2)
              try:
                  data = c.recv(100)
              except OSError:
                  data = b''
              print('saw tcp', port, addr[0], data, flush=True)
              c.close()
      def udp(port):
          s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
          s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
          s.bind(('::', port))
          while True:
              data, addr = s.recvfrom(100)
              print('saw udp', port, addr[0], data, flush=True)
              s.sendto(b'agent-data\\n', addr)
      for p in (%d, %d):
          threading.Thread(target=tcp, args=(p,), daemon=True).start()
      threading.Thread(target=udp, args=(%d,), daemon=True).start()
      print('listening', flush=True)
      threading.Event().wait()
      """
          .formatted(DECLARED, UNDECLARED, UDP_PORT);

  /** The peer: connects, sends "exfil-probe", prints what came back or the error. */
  private static final String PEER =
      """
      import socket, sys
      host, port = sys.argv[1], int(sys.argv[2])
      try:
          s = socket.create_connection((host, port), timeout=3)
          s.sendall(b'exfil-probe\\n')
          print('received', s.recv(100))
      except OSError as e:
          print('failed', type(e).__name__)
      """;

  private static final String PEER_UDP =
      """
      import socket, sys
      host, port = sys.argv[1], int(sys.argv[2])
      s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
      s.settimeout(3)
      s.sendto(b'exfil-probe\\n', (host, port))
      try:
          print('received', s.recvfrom(100)[0])
      except OSError as e:
          print('failed', type(e).__name__)
      """;

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  @BeforeAll
  static void createPod() {
    pod = PodNetns.create("InitRulesIT");
    assertThat(pod.runInit(INIT_FLAGS).requireSuccess().exitCode()).isZero();
  }

  @Test
  void a_second_run_changes_nothing() {
    String before = rules();
    Command.Result again = pod.runInit(INIT_FLAGS);
    assertThat(again.exitCode()).as(again.all()).isZero();
    assertThat(rules()).isEqualTo(before);
    Command.Result third = pod.runInit(INIT_FLAGS);
    assertThat(third.exitCode()).as(third.all()).isZero();
    assertThat(rules()).isEqualTo(before);
    assertThat(before.lines().filter(l -> l.endsWith("-j CAPGATE_OUTPUT")).count())
        .as(before)
        .isEqualTo(2);
    assertThat(before.lines().filter(l -> l.endsWith("-j CAPGATE_EGRESS")).count())
        .as(before)
        .isEqualTo(2);
    assertThat(before.lines().filter(l -> l.endsWith("-j CAPGATE_INBOUND")).count())
        .as(before)
        .isEqualTo(2);
    assertThat(before.lines().filter(l -> l.contains("--dport " + DECLARED)).count())
        .as(before)
        .isEqualTo(2);
    assertThat(again.stdout())
        .contains(
            "# iptables-restore --noflush",
            "# ip6tables-restore --noflush",
            "REDIRECT --to-ports 14001",
            "REDIRECT --to-ports 14053");
  }

  @Test
  void a_peer_reaches_only_the_declared_port_and_the_agent_never_sees_the_rest()
      throws IOException {
    Path canary = pod.dir().resolve("canary.py");
    Files.writeString(canary, CANARY);
    Path peer = pod.dir().resolve("peer.py");
    Files.writeString(peer, PEER);
    Path peerUdp = pod.dir().resolve("peer-udp.py");
    Files.writeString(peerUdp, PEER_UDP);
    pod.startAsAgent("canary.log", "listening", "python3", canary.toString());

    for (String address : new String[] {PodNetns.POD_V4, PodNetns.POD_V6}) {
      Command.Result udp =
          pod.inPeer("python3", peerUdp.toString(), address, String.valueOf(UDP_PORT));
      assertThat(udp.stdout()).as(udp.all()).startsWith("failed");

      Command.Result undeclared =
          pod.inPeer("python3", peer.toString(), address, String.valueOf(UNDECLARED));
      System.out.println(
          "peer -> "
              + address
              + ":"
              + UNDECLARED
              + " (undeclared): "
              + undeclared.stdout().strip());
      assertThat(undeclared.stdout())
          .as(undeclared.all())
          .startsWith("failed")
          .doesNotContain("agent-data");

      Command.Result declared =
          pod.inPeer("python3", peer.toString(), address, String.valueOf(DECLARED));
      System.out.println(
          "peer -> " + address + ":" + DECLARED + " (declared): " + declared.stdout().strip());
      assertThat(declared.stdout()).as(declared.all()).contains("received b'agent-data\\n'");
    }
    String seen = pod.log("canary.log");
    System.out.println("the agent's canary saw:\n" + seen);
    assertThat(seen)
        .contains("saw tcp " + DECLARED)
        .doesNotContain("saw tcp " + UNDECLARED)
        .doesNotContain("saw udp");
  }

  @Test
  void the_pod_itself_still_reaches_its_own_servers_over_loopback() throws IOException {
    Path probe = pod.dir().resolve("loopback-probe.py");
    Files.writeString(
        probe,
        """
        import socket
        s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
        c = socket.create_connection(('127.0.0.1', s.getsockname()[1]), timeout=3)
        a, _ = s.accept(); a.sendall(b'ok'); print(c.recv(10).decode())
        """);
    Command.Result r = pod.asAgent("python3", probe.toString());
    assertThat(r.stdout().strip()).as(r.all()).isEqualTo("ok");
  }

  @Test
  void a_bad_inbound_port_list_is_refused_with_a_clear_message() {
    Command.Result r = pod.runInit("--inbound-ports", "8080,http");
    assertThat(r.exitCode()).isEqualTo(64);
    assertThat(r.all()).contains("--inbound-ports", "'http'");
  }

  @Test
  void without_net_admin_init_fails_with_a_clear_message() {
    Command.Result r =
        pod.inPod(
            "setpriv",
            "--reuid",
            "1000",
            "--regid",
            "1000",
            "--clear-groups",
            "--",
            System.getProperty("java.home") + "/bin/java",
            "-jar",
            System.getProperty("user.dir") + "/target/capgate-sidecar.jar",
            "init");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.all()).contains("NET_ADMIN");
  }

  @Test
  void without_iptables_init_fails_with_a_clear_message() {
    Command.Result r =
        pod.inPod(
            "env",
            "PATH=/nonexistent",
            System.getProperty("java.home") + "/bin/java",
            "-jar",
            System.getProperty("user.dir") + "/target/capgate-sidecar.jar",
            "init");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.all()).contains("iptables-save could not be run", "needs iptables");
  }

  /** iptables-save and ip6tables-save of the pod, without the timestamp comments and counters. */
  private static String rules() {
    String v4 = pod.inPod("iptables-save").requireSuccess().stdout();
    String v6 = pod.inPod("ip6tables-save").requireSuccess().stdout();
    return Arrays.stream((v4 + v6).split("\n"))
        .filter(l -> !l.startsWith("#"))
        .map(l -> l.replaceAll("\\[\\d+:\\d+\\]", "[0:0]"))
        .collect(Collectors.joining("\n"));
  }
}
