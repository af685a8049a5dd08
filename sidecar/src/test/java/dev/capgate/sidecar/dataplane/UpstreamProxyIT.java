package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.sidecar.dataplane.AgentCurl.body;
import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.bearer;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static dev.capgate.sidecar.dataplane.UpstreamLog.headerValues;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.ConnectProxy;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.sidecar.netns.UpstreamServers;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Corporate egress (issue 8): the sidecar's outbound connections go through an HTTP CONNECT proxy
 * ({@code --upstream-proxy}, Basic proxy credentials from a file) in the upstream namespace. The
 * pod's own firewall refuses the sidecar any direct connection to the upstreams' ports, so a
 * request that arrives went through the proxy; policy still decides first (a denied request never
 * reaches the proxy) and the credential is still injected (TLS to the origin inside the tunnel).
 *
 * <p>Every test makes the traffic it checks; {@code @Order} only orders the report. The sweep of
 * every log for the secret runs once after the last test, over the whole run ({@link
 * #the_proxy_password_and_the_secret_stay_out_of_the_logs}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpstreamProxyIT {
  private static final String SECRET = "ghp_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  private static String ca;

  @BeforeAll
  static void startPod() {
    VaultKv vault = new VaultKv().put("github", "token", SECRET);
    pod = PodNetns.create("UpstreamProxyIT");
    pod.runInit().requireSuccess();
    // The corporate network: the sidecar (uid 1447) may reach the upstreams only through the proxy.
    pod.inPod(
            "iptables",
            "-A",
            "OUTPUT",
            "-m",
            "owner",
            "--uid-owner",
            String.valueOf(PodNetns.SIDECAR_UID),
            "-p",
            "tcp",
            "-d",
            UpstreamServers.V4,
            "-m",
            "multiport",
            "--dports",
            "80,443,8443,9000",
            "-j",
            "REJECT",
            "--reject-with",
            "tcp-reset")
        .requireSuccess();
    pod.startUpstreams(vault.address());
    Path auth = pod.writeSidecarFile("proxy-auth", ConnectProxy.USER + ":" + ConnectProxy.PASSWORD);
    pod.startSidecar(
        SessionSpecs.specOnly()
            .credential(bearer("github", vault.path("github"), "token"))
            .egress(
                rule("github-api")
                    .hosts("api.github.test")
                    .ports(443, 8443)
                    .methods(GET)
                    .paths("/repos/acme/repo-a/**")
                    .credential("github"),
                rule("packages").hosts("pypi.test").passthrough(),
                rule("raw-tcp").cidrs("198.18.0.2/32").ports(9000))
            .json(),
        vault.readerToken(),
        List.of(
            "--upstream-proxy",
            UpstreamServers.V4 + ":" + ConnectProxy.PORT,
            "--upstream-proxy-auth-file",
            auth.toString()));
    ca = pod.podCaCert().toString();
  }

  @Test
  @Order(1)
  void an_intercepted_request_goes_through_the_proxy_with_the_credential_injected() {
    Command.Result r = curl("--cacert", ca, "https://api.github.test/repos/acme/repo-a/via-proxy");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    JsonObject saw = UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/via-proxy");
    assertThat(headerValues(saw, "authorization")).containsExactly("Bearer " + SECRET);
    assertThat(proxied()).contains("api.github.test:443 authorized 200");
    assertThat(r.stdout()).doesNotContain(SECRET);
  }

  @Test
  @Order(2)
  void passthrough_and_raw_tcp_go_through_the_proxy_too() {
    Command.Result tls =
        curl("--cacert", pod.upstreamCaCert().toString(), "https://pypi.test/simple/");
    assertThat(status(tls)).as(tls.all()).isEqualTo(200);
    assertThat(proxied()).contains("pypi.test:443 authorized 200");
    Command.Result tcp =
        pod.asAgent(
            "python3",
            "-c",
            """
        import socket
        s = socket.create_connection(('198.18.0.2', 9000), timeout=5)
        s.sendall(b'raw bytes through the tunnel')
        print(s.recv(100).decode())
        """);
    assertThat(tcp.stdout().strip()).as(tcp.all()).isEqualTo("raw bytes through the tunnel");
    assertThat(proxied()).contains("198.18.0.2:9000 authorized 200");
  }

  @Test
  @Order(3)
  void policy_still_decides_before_anything_reaches_the_proxy() {
    int before = proxied().size();
    Command.Result path = curl("--cacert", ca, "https://api.github.test/repos/acme/secret");
    assertThat(status(path)).as(path.all()).isEqualTo(403);
    Command.Result host = curl("--cacert", ca, "https://evil.test/");
    assertThat(host.exitCode()).as(host.all()).isEqualTo(35);
    assertThat(proxied()).hasSize(before);
    assertThat(pod.log("upstream.log")).doesNotContain("/repos/acme/secret");
  }

  @Test
  @Order(4)
  void a_tunnel_the_proxy_refuses_is_a_502_saying_so() {
    Command.Result r =
        curl("--cacert", ca, "https://api.github.test:8443/repos/acme/repo-a/refused");
    assertThat(status(r)).as(r.all()).isEqualTo(502);
    JsonObject error = new JsonObject(body(r));
    assertThat(error.getString("error")).isEqualTo("upstream-unreachable");
    assertThat(error.getString("detail")).contains("did not open a tunnel", "403");
    assertThat(proxied()).contains("api.github.test:8443 authorized 403");
  }

  @Test
  @Order(90)
  void the_sidecar_says_which_proxy_it_goes_through_and_as_whom() {
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(pod.log("sidecar.log"))
                    .contains("through the HTTP CONNECT proxy 198.18.0.2:3128 (as capgate-svc)"));
  }

  /**
   * The sweep over the whole run, after the last test whichever ran: no log holds the secret or the
   * proxy password, after a request of its own through the proxy that injects the secret ({@link
   * PodLogs#sweep}).
   */
  @AfterAll
  static void the_proxy_password_and_the_secret_stay_out_of_the_logs() {
    PodLogs.sweep(
        pod,
        () -> {
          Command.Result r =
              curl("--cacert", ca, "https://api.github.test/repos/acme/repo-a/after-all-sweep");
          assertThat(status(r)).as(r.all()).isEqualTo(200);
          assertThat(r.stdout()).doesNotContain(SECRET);
        },
        "/repos/acme/repo-a/after-all-sweep",
        List.of(SECRET, ConnectProxy.PASSWORD));
  }

  // ------------------------------------------------------------------ helpers

  private static Command.Result curl(String... args) {
    return AgentCurl.run(pod, args);
  }

  /** What went through the proxy: "target authorized|anonymous status" per CONNECT. */
  private static List<String> proxied() {
    List<String> out = new ArrayList<>();
    for (String line : pod.log("upstream.log").lines().toList()) {
      if (line.startsWith("{\"proxySaw\"")) {
        JsonObject p = new JsonObject(line).getJsonObject("proxySaw");
        out.add(
            p.getString("target")
                + (p.getBoolean("authorized") ? " authorized " : " anonymous ")
                + p.getInteger("status"));
      }
    }
    return out;
  }
}
