package dev.capgate.sidecar.policy;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.sidecar.policy.Specs.request;
import static dev.capgate.sidecar.policy.Specs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.SessionMode;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** Learn mode (spec.mode Audit): what it lets through, without what, and what it still refuses. */
class PolicyLearnModeTest {
  private static Policy policy(SessionMode mode) {
    return Policy.compile(
        Specs.SESSION,
        AgentSessionBuilder.specOnly()
            .user("alice@example.com")
            .agent("coding-agent")
            .ttl("2h")
            .mode(mode)
            .vaultRole("capgate-agent")
            .credential(Specs.credential("github"))
            .egress(
                rule("github-read")
                    .hosts("api.github.com")
                    .methods(GET)
                    .paths("/repos/acme/**")
                    .credential("github"),
                rule("packages").hosts("pypi.org").passthrough())
            .spec());
  }

  private static final Policy LEARN = policy(SessionMode.Audit);
  private static final Policy ENFORCE = policy(SessionMode.Enforce);

  @Test
  void an_allowed_request_is_unchanged() {
    RequestVerdict v = LEARN.onRequest(request("GET", "api.github.com", 443, "/repos/acme/a"));
    assertThat(v.allowed()).isTrue();
    assertThat(v.wouldDeny()).isFalse();
    assertThat(v.rule()).isEqualTo("github-read");
    assertThat(v.credentials()).containsExactly("github");
  }

  @Test
  void a_refused_request_goes_out_without_rule_or_credential_and_says_why() {
    RequestVerdict v = LEARN.onRequest(request("DELETE", "api.github.com", 443, "/repos/acme/a"));
    assertThat(v.allowed()).isTrue();
    assertThat(v.wouldDeny()).isTrue();
    assertThat(v.rule()).isNull();
    assertThat(v.credentials()).isEmpty();
    assertThat(v.reason())
        .isEqualTo("no egress rule for api.github.com allows DELETE /repos/acme/a");

    RequestVerdict enforced =
        ENFORCE.onRequest(request("DELETE", "api.github.com", 443, "/repos/acme/a"));
    assertThat(enforced.allowed()).isFalse();
    assertThat(enforced.wouldDeny()).isFalse();
    assertThat(enforced.reason()).isEqualTo(v.reason());
  }

  @Test
  void a_host_no_rule_names_is_spliced_over_tls_and_intercepted_in_plaintext() {
    InetSocketAddress to = new InetSocketAddress("203.0.113.9", 443);
    ConnectionVerdict tls = LEARN.onConnection("api.other.com", to, ConnectionKind.TLS);
    assertThat(tls.action()).isEqualTo(ConnectionAction.PASSTHROUGH);
    assertThat(tls.wouldDeny()).isTrue();
    assertThat(tls.rule()).isNull();
    assertThat(tls.reason()).isEqualTo("no egress rule allows api.other.com:443");

    ConnectionVerdict plain =
        LEARN.onConnection(
            "api.other.com",
            new InetSocketAddress("203.0.113.9", 80),
            ConnectionKind.PLAINTEXT_HTTP);
    assertThat(plain.action()).isEqualTo(ConnectionAction.INTERCEPT);
    assertThat(plain.wouldDeny()).isTrue();

    assertThat(ENFORCE.onConnection("api.other.com", to, ConnectionKind.TLS).action())
        .isEqualTo(ConnectionAction.DENY);
  }

  @Test
  void raw_tcp_and_tls_without_a_name_stay_refused() {
    InetSocketAddress to = new InetSocketAddress("203.0.113.9", 5432);
    assertThat(LEARN.onConnection(null, to, ConnectionKind.OTHER).action())
        .isEqualTo(ConnectionAction.DENY);
    assertThat(LEARN.onConnection(null, to, ConnectionKind.TLS).action())
        .isEqualTo(ConnectionAction.DENY);
  }

  @Test
  void every_well_formed_name_is_answered_in_learn_mode_only() {
    assertThat(LEARN.allowsDnsName("api.other.com")).isTrue();
    assertThat(ENFORCE.allowsDnsName("api.other.com")).isFalse();
    assertThat(LEARN.allowsDnsName("not a name")).isFalse();
  }
}
