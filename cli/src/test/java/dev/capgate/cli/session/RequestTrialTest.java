package dev.capgate.cli.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.sidecar.policy.ConnectionAction;
import java.io.IOException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RequestTrialTest {
  static SessionDocument session;

  @BeforeAll
  static void load() throws IOException {
    session = SessionFiles.read(LintTest.EXAMPLE).get(0);
  }

  private static RequestTrial.Outcome run(String request) {
    return RequestTrial.run(session, SampleRequest.parse(request));
  }

  @Test
  void allowedWithItsCredentialByNameOnly() {
    RequestTrial.Outcome o = run("GET https://api.github.com/repos/acme/repo-a/pulls?state=open");
    assertThat(o.allowed()).isTrue();
    assertThat(o.stage()).isEqualTo("request");
    assertThat(o.action()).isEqualTo(ConnectionAction.INTERCEPT);
    assertThat(o.rule()).isEqualTo("github-api");
    assertThat(o.normalized().path()).isEqualTo("/repos/acme/repo-a/pulls");
    assertThat(o.credentials())
        .containsExactly(
            "github  Authorization: Bearer <value>  (value from Vault"
                + " secret/data/github/alice@example.com field token, kv2)");
    assertThat(run("POST https://github.com/acme/repo-a.git/git-upload-pack").credentials())
        .singleElement()
        .asString()
        .startsWith("github-git  Authorization: Basic <x-access-token:value, base64>");
  }

  @Test
  void aGitHubAppCredentialIsDescribedAsMintedNotRead() {
    var app =
        dev.capgate.api.v1alpha1.AgentSessionBuilder.githubApp(
                "github", 123456, 7890, "secret/data/github-app/acme")
            .repositories("repo-a")
            .bearer()
            .build();
    assertThat(RequestTrial.describe("github", java.util.Optional.of(app), session))
        .isEqualTo(
            "github  Authorization: Bearer <value>  (GitHub App installation token minted by the"
                + " sidecar: app 123456, installation 7890, repositories [repo-a])");
  }

  @Test
  void deniedAsTheSidecarWould() {
    RequestTrial.Outcome delete = run("DELETE https://api.github.com/repos/acme/repo-a");
    assertThat(delete.allowed()).isFalse();
    assertThat(delete.rule()).isNull();
    assertThat(delete.reason())
        .isEqualTo("no egress rule for api.github.com allows DELETE /repos/acme/repo-a");
    assertThat(delete.credentials()).isEmpty();
    // Dot-segments are resolved before the rules see the path.
    assertThat(run("GET https://api.github.com/repos/acme/repo-a/../repo-b").allowed()).isFalse();
    RequestTrial.Outcome other = run("GET https://evil.example/");
    assertThat(other.stage()).isEqualTo("connection");
    assertThat(other.reason()).isEqualTo("no egress rule allows evil.example:443");
    // A credential never crosses plaintext HTTP (port 80 is not a rule's port either).
    assertThat(run("GET http://api.github.com:443/repos/acme/repo-a").reason())
        .isEqualTo(
            "rule 'github-api' injects a credential, which is never sent over plaintext HTTP: use https");
    assertThat(run("GET https://api.github.com/repos/acme/repo-a%2f..%2frepo-b").reason())
        .startsWith("bad-request: ");
  }

  @Test
  void aLearnSessionsWouldDenyIsADenialSayingSo() {
    SessionDocument learning =
        new SessionDocument(
            1,
            session.namespace(),
            session.name(),
            dev.capgate.api.v1alpha1.AgentSessionBuilder.specOnly()
                .user("alice@example.com")
                .agent("coding-agent")
                .ttl("2h")
                .mode(dev.capgate.api.v1alpha1.SessionMode.Audit)
                .egress(
                    dev.capgate.api.v1alpha1.AgentSessionBuilder.rule("read")
                        .hosts("api.github.com")
                        .methods(dev.capgate.api.v1alpha1.HttpMethod.GET))
                .spec(),
            java.util.List.of());
    RequestTrial.Outcome delete =
        RequestTrial.run(learning, SampleRequest.parse("DELETE https://api.github.com/x"));
    assertThat(delete.allowed()).as("judged as Enforce will").isFalse();
    assertThat(delete.reason())
        .isEqualTo(RequestTrial.LEARNING + "no egress rule for api.github.com allows DELETE /x");
    RequestTrial.Outcome other =
        RequestTrial.run(learning, SampleRequest.parse("GET https://evil.example/"));
    assertThat(other.allowed()).isFalse();
    assertThat(other.reason()).startsWith(RequestTrial.LEARNING);
  }

  @Test
  void passthroughIsAllowedAtTheConnection() {
    RequestTrial.Outcome o = run("GET https://pypi.org/simple/requests/");
    assertThat(o.allowed()).isTrue();
    assertThat(o.action()).isEqualTo(ConnectionAction.PASSTHROUGH);
    assertThat(o.rule()).isEqualTo("packages");
    assertThat(o.normalized()).isNull();
  }

  @Test
  void sampleRequests() {
    SampleRequest r = SampleRequest.parse("GET https://[::1]:8443?x=1");
    assertThat(r.host()).isEqualTo("[::1]");
    assertThat(r.port()).isEqualTo(8443);
    assertThat(r.target()).isEqualTo("/?x=1");
    assertThat(SampleRequest.parse("PUT http://a.example/b").port()).isEqualTo(80);
    assertThatThrownBy(() -> SampleRequest.parse("https://a.example/"))
        .hasMessageContaining("METHOD URL");
    assertThatThrownBy(() -> SampleRequest.parse("GET ftp://a.example/"))
        .hasMessageContaining("https://");
    assertThatThrownBy(() -> SampleRequest.parse("GET https:///x")).hasMessageContaining("no host");
  }
}
