package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.SidecarPorts;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.sidecar.netns.UpstreamServers;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Beside a mesh (docs/meshes.md), with an operator's non-default uid and ports (chart {@code
 * sidecar.proxyUid}, {@code sidecar.ports}): the real init rules in a real network namespace and
 * the real sidecar, both given the same non-default values as the webhook gives them. The agent's
 * traffic still goes through the sidecar (on the moved ports), the contract's default uid is an
 * ordinary, intercepted uid there, and only the configured uid and the mesh proxy's exempt uid
 * leave the pod untouched.
 */
class MovedPortsIT {
  /** The uid and ports, and a mesh proxy's uid (5000) beside them (chart sidecar.exemptUids). */
  static final SidecarPorts MOVED =
      new SidecarPorts(4242, 20001, 20053, 20021, new java.util.TreeSet<>(List.of(5000)));

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  @BeforeAll
  static void startPod() {
    pod = PodNetns.create("MovedPortsIT").withSidecarPorts(MOVED);
    try {
      assertThat(pod.runInit().requireSuccess().exitCode()).isZero();
      pod.startUpstreams(null);
      pod.startSidecar(
          SessionSpecs.session("beside-a-mesh")
              .egress(
                  rule("plain-http")
                      .hosts("plain.test")
                      .ports(80)
                      .methods(GET)
                      .paths("/allowed/**"))
              .json(),
          null,
          List.of());
    } catch (RuntimeException | Error e) {
      pod.close();
      throw e;
    }
  }

  @Test
  void the_rules_exempt_the_configured_uid_and_redirect_to_the_configured_ports() {
    String rules =
        pod.inPod("iptables-save").requireSuccess().stdout()
            + pod.inPod("ip6tables-save").requireSuccess().stdout();
    assertThat(rules)
        .contains(
            "--uid-owner 4242",
            "--uid-owner 5000",
            "--to-ports 20001",
            "--to-ports 20053",
            "--dport 20021")
        .doesNotContain("1447", "14001", "14053", "14021");
  }

  @Test
  void the_agent_goes_through_the_sidecar_on_the_moved_ports() {
    Command.Result allowed = AgentCurl.run(pod, "http://plain.test/allowed/x");
    assertThat(status(allowed)).as(allowed.all()).isEqualTo(200);
    Command.Result denied = AgentCurl.run(pod, "http://plain.test/other");
    assertThat(status(denied)).as(denied.all()).isEqualTo(403);
    assertThat(AgentCurl.body(denied)).contains("\"requestId\"");
  }

  @Test
  void the_contracts_default_uid_is_an_ordinary_uid_in_this_pod() {
    Command.Result r = curlAs(PodNetns.SIDECAR_UID, "http://plain.test/other");
    assertThat(status(r)).as("uid 1447 is intercepted here: " + r.all()).isEqualTo(403);
  }

  @Test
  void only_the_configured_uid_leaves_the_pod_untouched() {
    // What the sidecar itself does when it dials an upstream: no redirect, straight out.
    Command.Result r =
        curlAs(
            MOVED.proxyUid(),
            "--resolve",
            "plain.test:80:" + UpstreamServers.V4,
            "http://plain.test/other");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    assertThat(AgentCurl.body(r)).doesNotContain("\"requestId\"");
  }

  @Test
  void a_mesh_proxys_exempt_uid_leaves_the_pod_untouched_too() {
    // Beside a mesh, its proxy dials the destination after the sidecar: it must not come back.
    Command.Result r =
        curlAs(5000, "--resolve", "plain.test:80:" + UpstreamServers.V4, "http://plain.test/other");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    assertThat(AgentCurl.body(r)).doesNotContain("\"requestId\"");
  }

  @Test
  void the_sidecar_listens_on_the_moved_admin_port_and_not_on_the_defaults() {
    Command.Result ready = pod.inPod("curl", "-s", "-m", "5", "http://127.0.0.1:20021/readyz");
    assertThat(ready.stdout()).as(ready.all()).startsWith("ready");
    for (int port : new int[] {14001, 14021}) {
      Command.Result none =
          pod.inPod("curl", "-s", "-m", "5", "http://127.0.0.1:" + port + "/readyz");
      assertThat(none.exitCode()).as(port + ": " + none.all()).isNotZero();
    }
  }

  private static Command.Result curlAs(int uid, String... args) {
    List<String> command =
        new java.util.ArrayList<>(List.of("curl", "-s", "-m", "15", "-w", "\n%{http_code}"));
    command.addAll(List.of(args));
    return pod.asUid(uid, command.toArray(String[]::new));
  }
}
