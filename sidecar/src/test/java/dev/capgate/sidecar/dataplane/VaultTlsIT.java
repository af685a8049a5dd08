package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.sidecar.dataplane.AgentCurl.body;
import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.bearer;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static dev.capgate.sidecar.dataplane.UpstreamLog.headerValues;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Vault over TLS with a private CA (issue 14): the real OpenBao serves https with a certificate
 * from a CA no client trusts by default. The sidecar given that CA ({@code CAPGATE_VAULT_CA}, what
 * the webhook injects from the chart's {@code vault.caCert}) fetches the credential over TLS; the
 * same sidecar without it fails closed: the TLS handshake fails, the agent gets a 503 naming the
 * credential, the upstream sees nothing, and the audit line says why.
 */
class VaultTlsIT {
  private static final String SECRET = "ghp_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));
  private static final String USER = "alice@example.com";
  private static final String HOST = "api.github.test";

  @AutoClose private static PodNetns withCa;
  @AutoClose private static PodNetns withoutCa;

  @BeforeAll
  static void startPods() {
    VaultKv vault = new VaultKv().put("github/" + USER, "token", SECRET);
    String token = vault.readerToken();
    assertThat(vault.tlsAddress()).startsWith("https://");

    withCa = DataPlanePod.start("VaultTlsCa", vault.tlsAddress());
    withCa.startSidecar(
        session(vault),
        token,
        List.of("--" + SidecarContract.flagOf(SidecarContract.ENV_VAULT_CA), vault.tlsCaPem()));
    withoutCa = DataPlanePod.start("VaultTlsNoCa", vault.tlsAddress());
    withoutCa.startSidecar(session(vault), token, List.of());
  }

  private static String session(VaultKv vault) {
    return SessionSpecs.session("vault-tls")
        .user(USER)
        .credential(bearer("github", vault.path("github/{{user}}"), "token"))
        .egress(
            rule("github-api")
                .hosts(HOST)
                .methods(GET)
                .paths("/repos/acme/repo-a/**")
                .credential("github"))
        .json();
  }

  @Test
  void with_the_vault_ca_the_credential_is_fetched_over_tls() {
    Command.Result r = curl(withCa, "https://" + HOST + "/repos/acme/repo-a/tls");

    assertThat(status(r)).as(r.all()).isEqualTo(200);
    assertThat(
            headerValues(
                UpstreamLog.lastRequest(withCa, "/repos/acme/repo-a/tls"), "authorization"))
        .containsExactly("Bearer " + SECRET);
  }

  @Test
  void without_the_vault_ca_the_request_fails_closed_and_is_audited() {
    Command.Result r = curl(withoutCa, "https://" + HOST + "/repos/acme/repo-a/no-ca");

    assertThat(status(r)).as(r.all()).isEqualTo(503);
    assertThat(body(r)).contains("credential unavailable: github").doesNotContain(SECRET);
    JsonObject audit = AuditLines.awaitLast(withoutCa, HOST, "credential 'github' unavailable");
    assertThat(audit.getString("decision")).isEqualTo("error");
    assertThat(audit.encode()).doesNotContain(SECRET);
    assertThat(withoutCa.log("upstream.log")).doesNotContain("/repos/acme/repo-a/no-ca");
    assertThat(withoutCa.log("sidecar.log")).doesNotContain(SECRET);
  }

  private static Command.Result curl(PodNetns pod, String url) {
    return AgentCurl.trusting(pod, pod.podCaCert().toString(), url);
  }
}
