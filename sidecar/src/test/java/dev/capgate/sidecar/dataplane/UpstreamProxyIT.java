package dev.capgate.sidecar.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.ConnectProxy;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.sidecar.netns.UpstreamServers;
import dev.capgate.testkit.OpenBaoServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
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
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpstreamProxyIT {
  private static final String SECRET = "ghp_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));
  private static PodNetns pod;
  private static String ca;

  @BeforeAll
  static void startPod() {
    OpenBaoServer bao = OpenBaoServer.shared();
    String mount = bao.newKvMount();
    bao.request("POST", mount + "/data/github", new JsonObject().put("data", new JsonObject().put("token", SECRET)).encode());
    bao.request("POST", "sys/policies/acl/capgate-proxy-" + mount, new JsonObject().put("policy",
        "path \"" + mount + "/data/*\" { capabilities = [\"read\"] }").encode());
    String token = new JsonObject(bao.request("POST", "auth/token/create", new JsonObject()
            .put("policies", new JsonArray().add("capgate-proxy-" + mount)).put("ttl", "1h").encode()))
        .getJsonObject("auth").getString("client_token");
    pod = PodNetns.create("UpstreamProxyIT");
    pod.runInit().requireSuccess();
    // The corporate network: the sidecar (uid 1337) may reach the upstreams only through the proxy.
    pod.inPod("iptables", "-A", "OUTPUT", "-m", "owner", "--uid-owner", String.valueOf(PodNetns.SIDECAR_UID),
        "-p", "tcp", "-d", UpstreamServers.V4, "-m", "multiport", "--dports", "80,443,8443,9000",
        "-j", "REJECT", "--reject-with", "tcp-reset").requireSuccess();
    pod.startUpstreams(bao.address());
    Path auth = pod.writeSidecarFile("proxy-auth", ConnectProxy.USER + ":" + ConnectProxy.PASSWORD);
    pod.startSidecar("""
        spec:
          user: alice@example.com
          agent: coding-agent
          vault: {role: capgate-agent}
          credentials:
            - name: github
              vault: {path: "%s/data/github", field: token}
              inject: {type: bearer}
          egress:
            - name: github-api
              hosts: [api.github.test]
              ports: [443, 8443]
              methods: [GET]
              paths: ["/repos/acme/repo-a/**"]
              credential: github
            - name: packages
              hosts: [pypi.test]
              tls: passthrough
            - name: raw-tcp
              cidrs: [198.18.0.2/32]
              ports: [9000]
        """.formatted(mount), token, List.of("--upstream-proxy", UpstreamServers.V4 + ":" + ConnectProxy.PORT,
        "--upstream-proxy-auth-file", auth.toString()));
    ca = pod.podCaCert().toString();
  }

  @AfterAll
  static void stopPod() {
    if (pod != null) {
      pod.close();
    }
  }

  @Test
  @Order(1)
  void an_intercepted_request_goes_through_the_proxy_with_the_credential_injected() {
    Command.Result r = curl("--cacert", ca, "https://api.github.test/repos/acme/repo-a/via-proxy");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    JsonObject saw = lastUpstreamRequest("/repos/acme/repo-a/via-proxy");
    assertThat(headerValues(saw, "authorization")).containsExactly("Bearer " + SECRET);
    assertThat(proxied()).contains("api.github.test:443 authorized 200");
    assertThat(r.stdout()).doesNotContain(SECRET);
  }

  @Test
  @Order(2)
  void passthrough_and_raw_tcp_go_through_the_proxy_too() {
    Command.Result tls = curl("--cacert", pod.upstreamCaCert().toString(), "https://pypi.test/simple/");
    assertThat(status(tls)).as(tls.all()).isEqualTo(200);
    assertThat(proxied()).contains("pypi.test:443 authorized 200");
    Command.Result tcp = pod.asAgent("python3", "-c", """
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
    Command.Result r = curl("--cacert", ca, "https://api.github.test:8443/repos/acme/repo-a/refused");
    assertThat(status(r)).as(r.all()).isEqualTo(502);
    JsonObject error = new JsonObject(body(r));
    assertThat(error.getString("error")).isEqualTo("upstream-unreachable");
    assertThat(error.getString("detail")).contains("did not open a tunnel", "403");
    assertThat(proxied()).contains("api.github.test:8443 authorized 403");
  }

  @Test
  @Order(90)
  void the_proxy_password_and_the_secret_stay_out_of_the_logs() throws Exception {
    for (Path log : pod.logFiles()) {
      if (!log.getFileName().toString().equals("upstream.log")) {
        assertThat(Files.readString(log)).as(log.toString()).doesNotContain(SECRET).doesNotContain(ConnectProxy.PASSWORD);
      }
    }
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
        pod.log("sidecar.log")).contains("through the HTTP CONNECT proxy 198.18.0.2:3128 (as capgate-svc)"));
  }

  // ------------------------------------------------------------------ helpers

  /** What went through the proxy: "target authorized|anonymous status" per CONNECT. */
  private static List<String> proxied() {
    List<String> out = new ArrayList<>();
    for (String line : pod.log("upstream.log").lines().toList()) {
      if (line.startsWith("{\"proxySaw\"")) {
        JsonObject p = new JsonObject(line).getJsonObject("proxySaw");
        out.add(p.getString("target") + (p.getBoolean("authorized") ? " authorized " : " anonymous ") + p.getInteger("status"));
      }
    }
    return out;
  }

  private static Command.Result curl(String... args) {
    List<String> command = new ArrayList<>(List.of("curl", "-s", "-m", "15", "-w", "\n%{http_code}"));
    command.addAll(List.of(args));
    return pod.asAgent(command.toArray(String[]::new));
  }

  private static int status(Command.Result r) {
    List<String> lines = r.stdout().lines().toList();
    return lines.isEmpty() ? -1 : Integer.parseInt(lines.getLast().strip());
  }

  private static String body(Command.Result r) {
    String out = r.stdout();
    int last = out.lastIndexOf('\n');
    return last < 0 ? "" : out.substring(0, last);
  }

  private static JsonObject lastUpstreamRequest(String uri) {
    JsonObject found = null;
    for (String line : pod.log("upstream.log").lines().toList()) {
      if (line.startsWith("{\"upstreamSaw\"")) {
        JsonObject saw = new JsonObject(line).getJsonObject("upstreamSaw");
        if (uri.equals(saw.getString("uri"))) {
          found = saw;
        }
      }
    }
    assertThat(found).as("the upstream saw " + uri + "\n" + pod.log("upstream.log")).isNotNull();
    return found;
  }

  private static List<String> headerValues(JsonObject saw, String name) {
    return saw.getJsonArray("headers").stream().map(JsonArray.class::cast).filter(h -> h.getString(0).equals(name))
        .map(h -> h.getString(1)).toList();
  }
}
