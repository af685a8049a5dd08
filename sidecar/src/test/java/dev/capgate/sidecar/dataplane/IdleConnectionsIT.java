package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The agent-connection idle timeout on the real sidecar (started with {@code --idle-timeout 2s} and
 * {@code --upstream-timeout 8s}), with real clients as the agent: a keep-alive connection with no
 * exchange in flight is closed once it has been quiet for the idle timeout, over HTTP/1.1 and
 * HTTP/2; a request whose upstream stays silent longer than that completes on its connection, which
 * then serves the next request; an upstream silent past the silence timeout is bounded by that
 * timeout (504), not by the idle one. A request held for approval is the same rule (ApprovalIT).
 */
class IdleConnectionsIT {
  private static final int IDLE_SECONDS = 2;

  @AutoClose private static PodNetns pod;

  private static String ca;

  /**
   * Python (standard library only) as the agent. Arguments: the CA file, the ALPN protocol (h2 or
   * http/1.1), the path. One GET on a kept-alive connection, read whole; then it waits, reading,
   * and prints how long the connection stayed open after the answer, and whether an HTTP/2 GOAWAY
   * came first. HTTP/2 by hand: the preface, an empty SETTINGS, one HEADERS frame (HPACK static
   * indexes and literals, no Huffman), a SETTINGS ack for the server's.
   */
  static final String ONE_REQUEST_THEN_WAIT =
      """
      import socket, ssl, sys, time
      ca, proto, path = sys.argv[1], sys.argv[2], sys.argv[3]
      ctx = ssl.create_default_context(cafile=ca)
      ctx.set_alpn_protocols([proto])
      s = ctx.wrap_socket(socket.create_connection(('api.github.test', 443), timeout=20),
                          server_hostname='api.github.test')
      print('alpn', s.selected_alpn_protocol())
      buf = b''
      def more():
          global buf
          data = s.recv(65536)
          if not data:
              raise EOFError
          buf += data
      def take(n):
          global buf
          while len(buf) < n:
              more()
          out, buf = buf[:n], buf[n:]
          return out
      def frame(kind, flags, stream, payload=b''):
          return len(payload).to_bytes(3, 'big') + bytes([kind, flags]) + stream.to_bytes(4, 'big') + payload
      def read_frame():
          head = take(9)
          return head[3], head[4], int.from_bytes(head[5:9], 'big') & 0x7fffffff, take(int.from_bytes(head[:3], 'big'))
      def literal(index, value):
          v = value.encode()
          return bytes([index, len(v)]) + v
      goaway = False
      if proto == 'h2':
          block = b'\\x82\\x87' + literal(4, path) + literal(1, 'api.github.test')
          s.sendall(b'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n' + frame(4, 0, 0) + frame(1, 5, 1, block))
          while True:
              kind, flags, stream, payload = read_frame()
              if kind == 4 and not flags & 1:
                  s.sendall(frame(4, 1, 0))
              if kind == 1 and stream == 1:
                  print('status', 200 if payload[:1] == b'\\x88' else payload[:4].hex())
              if stream == 1 and kind in (0, 1) and flags & 1:
                  break
      else:
          s.sendall(('GET ' + path + ' HTTP/1.1\\r\\nHost: api.github.test\\r\\n\\r\\n').encode())
          while b'\\r\\n\\r\\n' not in buf:
              more()
          head, _, buf = buf.partition(b'\\r\\n\\r\\n')
          lines = head.decode('latin-1').split('\\r\\n')
          print('status', lines[0].split(' ')[1])
          fields = {l.split(':', 1)[0].strip().lower(): l.split(':', 1)[1].strip() for l in lines[1:]}
          if 'content-length' in fields:
              take(int(fields['content-length']))
          else:
              while not buf.endswith(b'0\\r\\n\\r\\n'):
                  more()
          print('connection', fields.get('connection', '(none)'))
      answered = time.monotonic()
      try:
          while True:
              if proto == 'h2':
                  kind, flags, stream, payload = read_frame()
                  goaway = goaway or kind == 7
              else:
                  more()
      except socket.timeout:
          print('still open after %.1f s' % (time.monotonic() - answered))
      except (EOFError, OSError):
          print('closed after %.1f s' % (time.monotonic() - answered))
      print('goaway', goaway)
      """;

  @BeforeAll
  static void startPod() {
    pod = DataPlanePod.start("IdleConnectionsIT", null);
    pod.startSidecar(
        SessionSpecs.session("idle")
            .egress(rule("api").hosts("api.github.test").methods(GET).paths("/idle/**"))
            .json(),
        null,
        List.of("--idle-timeout", IDLE_SECONDS + "s", "--upstream-timeout", "8s"));
    ca = pod.podCaCert().toString();
    // The first TLS handshakes of a cold sidecar and upstream took over 10 s on a loaded 2-core
    // machine (the upstream gave up on one): warm both up before the tests time anything.
    for (String http : List.of("--http1.1", "--http2")) {
      for (int attempt = 0; attempt < 3; attempt++) {
        if (AgentCurl.status(AgentCurl.trusting(pod, ca, http, "https://api.github.test/idle/warm"))
            == 200) {
          break;
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"http/1.1", "h2"})
  void a_keep_alive_connection_with_no_exchange_in_flight_is_closed_after_the_idle_timeout(
      String protocol) {
    Command.Result r =
        pod.asAgent(
            Map.of(),
            Duration.ofSeconds(40),
            "python3",
            "-c",
            ONE_REQUEST_THEN_WAIT,
            ca,
            protocol,
            "/idle/keep-alive");
    List<String> lines = r.stdout().lines().toList();
    assertThat(lines).as(r.all()).contains("alpn " + protocol, "status 200");
    if (protocol.equals("h2")) {
      // Netty closes an HTTP/2 connection with a GOAWAY first: the client knows it was on purpose.
      assertThat(lines).as(r.all()).contains("goaway True");
    } else {
      assertThat(lines)
          .as("kept alive, not closed with the answer")
          .doesNotContain("connection close");
    }
    String closed =
        lines.stream().filter(l -> l.startsWith("closed after ")).findFirst().orElse(null);
    assertThat(closed).as("the sidecar closed the idle connection; " + r.all()).isNotNull();
    double seconds = Double.parseDouble(closed.split(" ")[2]);
    // Not with the answer, but once the idle timeout passed (slack for a loaded 2-core machine).
    assertThat(seconds).as(r.all()).isBetween(IDLE_SECONDS - 0.5, IDLE_SECONDS + 6.0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"--http1.1", "--http2"})
  void an_upstream_slower_than_the_idle_timeout_answers_on_the_same_connection(String http) {
    // 5 s of silence on the agent's connection: more than twice the idle timeout, less than the
    // upstream silence timeout (8 s). Then a second request on the same connection.
    Command.Result r =
        pod.asAgent(
            Map.of(),
            Duration.ofSeconds(40),
            "curl",
            "-s",
            "-m",
            "20",
            "--cacert",
            ca,
            http,
            "-o",
            "/dev/null",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{num_connects}\\n",
            "https://api.github.test/idle/slow?ms=5000",
            "https://api.github.test/idle/after-slow");
    assertThat(r.stdout().lines().toList())
        .as("200 on the first connection, then 200 reusing it; " + r.all())
        .containsExactly("200 1", "200 0");
  }

  @ParameterizedTest
  @ValueSource(strings = {"--http1.1", "--http2"})
  void an_upstream_silent_past_the_silence_timeout_is_a_504_not_an_idle_close(String http) {
    long start = System.nanoTime();
    Command.Result r =
        AgentCurl.trusting(pod, ca, http, "-m", "30", "https://api.github.test/idle/slow?ms=20000");
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(AgentCurl.status(r)).as(r.all()).isEqualTo(504);
    assertThat(AgentCurl.body(r)).contains("upstream-timeout");
    // Bounded by the 8 s upstream timeout, well before the upstream's 20 s answer.
    assertThat(seconds).as(r.all()).isBetween(7.5, 16.0);
  }
}
