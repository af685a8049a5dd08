package dev.capgate.sidecar.dataplane;

import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Invariant 4: a sidecar whose session cannot be enforced denies everything, and says why. */
class FailClosedIT {
  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  @BeforeAll
  static void startPodWithAnInvalidSession() {
    pod = DataPlanePod.start("FailClosedIT", null);
    // The rule names a credential the session does not declare: not enforceable as written.
    String invalid =
        SessionSpecs.specOnly()
            .egress(
                rule("github-api").hosts("api.github.test", "plain.test").credential("undeclared"))
            .json();
    pod.startSidecar(invalid, null, List.of(), "/healthz", "ok");
  }

  @Test
  void readyz_reports_the_invalid_policy() {
    Command.Result r =
        pod.inPod("curl", "-s", "-w", "\n%{http_code}", "http://127.0.0.1:14021/readyz");
    assertThat(r.stdout()).contains("not ready", "invalid AgentSession spec").endsWith("503");
  }

  @Test
  void plaintext_requests_get_a_403_naming_the_reason() {
    Command.Result r = pod.asAgent("curl", "-s", "http://plain.test/anything");
    JsonObject denial = new JsonObject(r.stdout());
    assertThat(denial.getString("error")).startsWith("no valid policy");
    assertThat(denial.getString("requestId")).isNotBlank();
    assertThat(denial.getString("type")).isEqualTo("tag:capgate.dev,2026:problem:no-valid-policy");
    assertThat(denial.getString("instance")).isEqualTo(denial.getString("requestId"));
  }

  @Test
  void tls_connections_are_refused() {
    Command.Result r =
        pod.asAgent(
            "curl", "-s", "--cacert", pod.podCaCert().toString(), "https://api.github.test/");
    assertThat(r.exitCode()).as(r.all()).isEqualTo(35);
  }

  @Test
  void dns_answers_nothing() {
    Command.Result r =
        pod.asAgent(
            "python3",
            "-c",
            """
        import socket, struct
        q = struct.pack('>HHHHHH', 7, 0x0100, 1, 0, 0, 0) + b'\\x03api\\x06github\\x04test\\x00' + struct.pack('>HH', 1, 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(q, ('198.18.0.2', 53))
        print(s.recv(512)[3] & 0x0f)
        """);
    assertThat(r.stdout().strip()).as(r.all()).isEqualTo("3");
  }
}
