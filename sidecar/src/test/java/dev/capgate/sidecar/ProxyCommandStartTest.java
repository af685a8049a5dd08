package dev.capgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.sidecar.config.SidecarConfig;
import dev.capgate.testkit.Pki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start sequence with upstream TLS built on its own thread (issue 13): its failure still stops
 * the start with the reason, and a start that succeeds is ready with a policy.
 */
class ProxyCommandStartTest {
  @TempDir Path dir;

  @Test
  void anUnusableUpstreamCaBundleStillStopsTheStartWithItsReason() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty-bundle.pem"), "");
    Map<String, String> variables = variables();
    variables.put(SidecarContract.ENV_UPSTREAM_CA_FILE, empty.toString());

    assertThatThrownBy(() -> command(variables).start())
        .isInstanceOf(ProxyCommand.StartupFailure.class)
        .hasMessageContaining("cannot build upstream TLS trust")
        .hasMessageContaining("empty-bundle.pem");
  }

  @Test
  void aStartThatSucceedsIsReadyWithThePolicy() throws Exception {
    Map<String, String> variables = variables();
    int adminPort = Integer.parseInt(variables.get(SidecarContract.envOf("admin-port")));
    ProxyCommand.Running running = command(variables).start();
    try {
      var response =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
    } finally {
      running.stop();
    }
  }

  /**
   * The session file's policy is loaded on its own thread (issue 13), joined before the listeners
   * bind: a file that cannot be enforced still leaves the sidecar not ready, /readyz naming why.
   */
  @Test
  void aBadSessionFileStillLeavesTheStartNotReadyWithItsReason() throws Exception {
    Map<String, String> variables = variables();
    Path bad =
        Files.writeString(
            dir.resolve("bad-session.json"),
            """
            {"spec": {"user": "alice@example.com", "agent": "start-test", "egres": []}}
            """);
    variables.put(SidecarContract.envOf("session-file"), bad.toString());
    int adminPort = Integer.parseInt(variables.get(SidecarContract.envOf("admin-port")));
    ProxyCommand.Running running = command(variables).start();
    try {
      var response = readyz(adminPort);
      assertThat(response.statusCode()).isEqualTo(503);
      assertThat(response.body()).contains("bad-session.json").contains("egres");
    } finally {
      running.stop();
    }
  }

  @Test
  void aMissingSessionFileStillLeavesTheStartNotReadyWithItsReason() throws Exception {
    Map<String, String> variables = variables();
    variables.put(SidecarContract.envOf("session-file"), dir.resolve("no-session.json").toString());
    int adminPort = Integer.parseInt(variables.get(SidecarContract.envOf("admin-port")));
    ProxyCommand.Running running = command(variables).start();
    try {
      var response = readyz(adminPort);
      assertThat(response.statusCode()).isEqualTo(503);
      assertThat(response.body()).contains("cannot read session file").contains("no-session.json");
    } finally {
      running.stop();
    }
  }

  private static java.net.http.HttpResponse<String> readyz(int adminPort) throws Exception {
    return java.net.http.HttpClient.newHttpClient()
        .send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
  }

  private static ProxyCommand command(Map<String, String> variables) {
    // No iptables here: no connection is intercepted, so the original destination never matters.
    return new ProxyCommand(SidecarConfig.parse(List.of(), variables), ch -> Optional.empty());
  }

  private Map<String, String> variables() throws IOException {
    Pki ca = new Pki("capgate pod CA (start test)");
    Path session =
        Files.writeString(
            dir.resolve("session.json"),
            """
            {"metadata": {"namespace": "agents", "name": "start"},
             "spec": {"user": "alice@example.com", "agent": "start-test",
               "egress": [{"name": "api", "hosts": ["api.example.test"], "methods": ["GET"], "paths": ["/**"]}]}}
            """);
    Path caCert = Files.writeString(dir.resolve("ca.crt"), ca.caCertPem());
    Path caKey = Files.writeString(dir.resolve("ca.key"), ca.caKeyPem());
    return LoopbackSidecarFlags.variables(
        LoopbackSidecarFlags.of(dir, session, caCert, caKey, LoopbackSidecarFlags.freePort()));
  }
}
