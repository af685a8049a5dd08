package dev.capgate.sidecar.dataplane;

import static dev.capgate.sidecar.dataplane.AgentCurl.body;
import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hard hosts (issue 8): upstreams that refuse re-originated TLS (a certificate the sidecar cannot
 * verify, a host that wants a client certificate) and agents that refuse the pod CA (certificate
 * pinning). Each failure is audited in plain words, the agent gets a 502 that names {@code tls:
 * passthrough} as the way out, and passthrough is shown to work for the mTLS host.
 */
class HardHostsIT {
  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  private static String ca;

  @BeforeAll
  static void startPod() {
    pod = DataPlanePod.start("HardHostsIT", null);
    pod.startSidecar(
        SessionSpecs.specOnly()
            .egress(
                rule("private-ca-host").hosts("selfsigned.test").ports(8444),
                rule("mtls-intercepted").hosts("mtls.test").ports(8445),
                rule("mtls-passthrough").hosts("mtls-pass.test").ports(8445).passthrough(),
                rule("github-api").hosts("api.github.test"))
            .json(),
        null,
        List.of());
    ca = pod.podCaCert().toString();
  }

  @Test
  void an_upstream_certificate_that_does_not_verify_is_a_502_naming_the_failed_handshake() {
    Command.Result r = curl("--cacert", ca, "https://selfsigned.test:8444/x");
    assertThat(status(r)).as(r.all()).isEqualTo(502);
    JsonObject error = new JsonObject(body(r));
    assertThat(error.getString("error")).isEqualTo("upstream-tls-handshake-failed");
    assertThat(error.getString("detail")).contains("certificate verify failed", "tls: passthrough");
    JsonObject audit =
        AuditLines.awaitLast(pod, "selfsigned.test", "upstream-tls-handshake-failed");
    assertThat(audit.getString("reason"))
        .startsWith("upstream-tls-handshake-failed: certificate verify failed");
    assertThat(audit.getString("decision")).isEqualTo("error");
    System.out.println("audit: " + audit.encode());
  }

  @Test
  void an_upstream_that_wants_a_client_certificate_is_a_502_saying_so() {
    Command.Result r = curl("--cacert", ca, "https://mtls.test:8445/x");
    assertThat(status(r)).as(r.all()).isEqualTo(502);
    assertThat(new JsonObject(body(r)).getString("detail"))
        .contains("mutual TLS", "tls: passthrough");
    JsonObject audit = AuditLines.awaitLast(pod, "mtls.test", "upstream-tls-handshake-failed");
    assertThat(audit.getString("reason")).contains("client certificate");
    System.out.println("audit: " + audit.encode());
  }

  @Test
  void tls_passthrough_is_the_way_out_for_a_mutual_tls_host() {
    Command.Result r =
        curl(
            "--cacert",
            pod.upstreamCaCert().toString(),
            "--cert",
            pod.agentClientCert().toString(),
            "--key",
            pod.agentClientKey().toString(),
            "https://mtls-pass.test:8445/through");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    assertThat(pod.log("upstream.log")).contains("\"uri\":\"/through\"");
  }

  @Test
  void an_agent_that_refuses_the_pod_ca_is_audited_with_the_host() {
    // A client with its own idea of whom to trust (here: the real upstream CA, as a pinning client
    // would).
    Command.Result curl =
        curl("--cacert", pod.upstreamCaCert().toString(), "https://api.github.test/pinned");
    assertThat(curl.exitCode()).as(curl.all()).isEqualTo(60);
    Command.Result python =
        pod.asAgent(
            "python3",
            "-c",
            """
        import socket, ssl
        ctx = ssl.create_default_context(cafile='%s')
        try:
            ctx.wrap_socket(socket.create_connection(('api.github.test', 443), timeout=5), server_hostname='api.github.test')
            print('trusted')
        except ssl.SSLCertVerificationError:
            print('refused')
        """
                .formatted(pod.upstreamCaCert()));
    assertThat(python.stdout().strip()).as(python.all()).isEqualTo("refused");
    // A pinning client that just hangs up once it has seen the certificate, without an alert.
    Command.Result hangUp =
        pod.asAgent(
            "python3",
            "-c",
            """
        import socket, ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_hostname='api.github.test')
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        s = socket.create_connection(('api.github.test', 443), timeout=5)
        s.sendall(outgoing.read())
        print('got', len(s.recv(65536)) > 0)
        s.close()
        """);
    assertThat(hangUp.stdout().strip()).as(hangUp.all()).isEqualTo("got True");
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(5))
        .until(
            () ->
                AuditLines.matching(pod, "api.github.test", "agent-rejected-pod-ca").stream()
                    .anyMatch(
                        a ->
                            a.getString("reason")
                                .contains("closed the connection during the handshake")));
    List<JsonObject> lines = AuditLines.matching(pod, "api.github.test", "agent-rejected-pod-ca");
    assertThat(lines).as(pod.log("sidecar.log")).hasSizeGreaterThanOrEqualTo(3);
    assertThat(lines.getFirst().getString("reason")).contains("alert", "tls: passthrough");
    assertThat(pod.log("upstream.log")).doesNotContain("/pinned");
    System.out.println("audit: " + lines.getFirst().encode());
  }

  // ------------------------------------------------------------------ helpers

  private static Command.Result curl(String... args) {
    return AgentCurl.run(pod, args);
  }
}
