package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.sidecar.dataplane.AgentCurl.body;
import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.bearer;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static dev.capgate.sidecar.dataplane.SessionSpecs.withPlaceholder;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.audit.AuditSchema;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 16 §5, learn mode on real components: a session with {@code mode: Audit} lets through what
 * host/method/path policy would refuse, as the agent sent it and without any credential, and audits
 * it as {@code would-deny}; the same session in Enforce mode refuses it. Last, because it restarts
 * the sidecar: the Enforce half.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LearnModeIT {
  private static final String SECRET = "ghp_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));
  private static final String USER = "alice@example.com";
  private static final String PLACEHOLDER =
      "capgate-ph-github-" + HexFormat.of().formatHex(SecureRandom.getSeed(16));

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  private static VaultKv vault;
  private static Process sidecar;
  private static String ca;
  private static List<String> flags;

  @BeforeAll
  static void startPodInLearnMode() {
    vault = new VaultKv().put("github/" + USER, "token", SECRET);
    pod = DataPlanePod.start("LearnModeIT", vault.address());
    flags =
        List.of(
            "--placeholders-file",
            pod.writeSidecarFile(
                    "placeholders.json", new JsonObject().put("github", PLACEHOLDER).encode())
                .toString());
    sidecar = pod.startSidecar(session(true), vault.readerToken(), flags);
    ca = pod.podCaCert().toString();
  }

  private static String session(boolean learning) {
    SessionSpecs spec =
        SessionSpecs.session("learn")
            .user(USER)
            .credential(
                withPlaceholder(
                    bearer("github", vault.path("github/{{user}}"), "token"), "GH_TOKEN"))
            .egress(
                rule("github-read")
                    .hosts("api.github.test")
                    .methods(GET)
                    .paths("/repos/acme/repo-a/**")
                    .credential("github"));
    return (learning ? spec.learning() : spec).json();
  }

  @Test
  @Order(1)
  void an_allowed_request_still_gets_its_credential() {
    Command.Result r = curl("https://api.github.test/repos/acme/repo-a/issues");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    JsonObject saw = UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/issues");
    assertThat(UpstreamLog.headerValues(saw, "authorization")).containsExactly("Bearer " + SECRET);
    assertThat(AuditLines.awaitPath(pod, "/repos/acme/repo-a/issues").getString("decision"))
        .isEqualTo("allow");
  }

  @Test
  @Order(2)
  void a_request_policy_would_deny_goes_out_as_sent_without_a_credential() {
    Command.Result r =
        curl(
            "-X",
            "DELETE",
            "-H",
            "Authorization: Bearer agent-own-value",
            "https://api.github.test/repos/acme/repo-a/branches/12345");
    assertThat(status(r)).as(r.all()).isEqualTo(200);
    JsonObject saw = UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/branches/12345");
    // Nothing injected, nothing replaced: what the agent wrote is all the upstream got.
    assertThat(UpstreamLog.headerValues(saw, "authorization"))
        .containsExactly("Bearer agent-own-value");
    assertThat(saw.encode()).doesNotContain(SECRET);

    JsonObject audit = AuditLines.awaitPath(pod, "/repos/acme/repo-a/branches/12345");
    assertThat(audit.getString("decision")).isEqualTo("would-deny");
    assertThat(audit.getString("method")).isEqualTo("DELETE");
    assertThat(audit.getString("host")).isEqualTo("api.github.test");
    assertThat(audit.getString("reason"))
        .isEqualTo(
            "no egress rule for api.github.test allows DELETE /repos/acme/repo-a/branches/12345");
    assertThat(audit.containsKey("rule")).as("no rule allowed it").isFalse();
    assertThat(audit.containsKey("credential")).as("no credential went").isFalse();
    assertThat(audit.getInteger("upstreamStatus")).isEqualTo(200);
  }

  @Test
  @Order(3)
  void a_host_no_rule_names_is_reached_too_plaintext_per_request_tls_spliced() {
    Command.Result plain =
        pod.asAgent("curl", "-s", "-w", "\n%{http_code}", "http://plain.test/orgs/acme/members/77");
    assertThat(status(plain)).as(plain.all()).isEqualTo(200);
    JsonObject line = AuditLines.awaitPath(pod, "/orgs/acme/members/77");
    assertThat(line.getString("decision")).isEqualTo("would-deny");
    assertThat(line.getString("reason")).isEqualTo("no egress rule allows plain.test:80");

    // TLS to a host no rule names: spliced (the pod CA signs only for the session's hosts), so the
    // agent meets the upstream's own certificate; audited per connection.
    Command.Result tls =
        AgentCurl.trusting(pod, pod.upstreamCaCert().toString(), "https://pypi.test/simple/");
    assertThat(status(tls)).as(tls.all()).isEqualTo(200);
    JsonObject spliced = AuditLines.awaitLast(pod, "pypi.test", "no egress rule allows");
    assertThat(spliced.getString("decision")).isEqualTo("would-deny");
    assertThat(spliced.getString("type")).isEqualTo("connection");
    assertThat(spliced.getString("protocol")).isEqualTo("tls");

    // The would-deny lines are in the published contract.
    for (String audit : AuditLines.rawLines(pod)) {
      assertThat(AuditSchema.violations(audit)).as(audit).isEmpty();
    }
  }

  @Test
  @Order(4)
  void the_placeholder_guard_still_refuses_what_would_carry_a_placeholder_out() {
    // On its own route the placeholder is swapped for the real value (allowed); on a request only
    // learn mode lets through it would leave as is: refused, as everywhere else.
    Command.Result r =
        curl(
            "-X",
            "DELETE",
            "-H",
            "Authorization: Bearer " + PLACEHOLDER,
            "https://api.github.test/repos/acme/repo-a/branches/placeholder");
    assertThat(status(r)).as(r.all()).isEqualTo(403);
    assertThat(new JsonObject(body(r)).getString("error")).isEqualTo("placeholder-exfiltration");
    assertThat(pod.log("upstream.log")).doesNotContain("/branches/placeholder");
    assertThat(
            AuditLines.awaitPath(pod, "/repos/acme/repo-a/branches/placeholder")
                .getString("decision"))
        .isEqualTo("deny");
    assertThat(pod.log("sidecar.log")).doesNotContain(SECRET);
  }

  @Test
  @Order(5)
  void enforce_mode_refuses_the_same_request() throws Exception {
    sidecar.destroy();
    assertThat(sidecar.waitFor(20, TimeUnit.SECONDS)).isTrue();
    sidecar = pod.startSidecar(session(false), vault.readerToken(), flags);
    Command.Result r =
        curl("-X", "DELETE", "https://api.github.test/repos/acme/repo-a/branches/67890");
    assertThat(status(r)).as(r.all()).isEqualTo(403);
    assertThat(new JsonObject(body(r)).getString("type"))
        .isEqualTo("tag:capgate.dev,2026:problem:denied");
    assertThat(AuditLines.awaitPath(pod, "/repos/acme/repo-a/branches/67890").getString("decision"))
        .isEqualTo("deny");
    assertThat(pod.log("upstream.log")).doesNotContain("/repos/acme/repo-a/branches/67890");
    Command.Result plain =
        pod.asAgent("curl", "-s", "-w", "\n%{http_code}", "http://plain.test/enforced");
    assertThat(status(plain)).as(plain.all()).isEqualTo(403);
  }

  private static Command.Result curl(String... args) {
    return AgentCurl.trusting(pod, ca, args);
  }
}
