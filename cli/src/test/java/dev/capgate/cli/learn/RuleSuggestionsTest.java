package dev.capgate.cli.learn;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.AgentSessionValidator;
import dev.capgate.cli.audit.AuditLine;
import dev.capgate.cli.audit.AuditLines;
import dev.capgate.sidecar.policy.ConnectionAction;
import dev.capgate.sidecar.policy.ConnectionKind;
import dev.capgate.sidecar.policy.NormalizedRequest;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.testkit.JsonSchemas;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RuleSuggestionsTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static int n;

  /** An audit line as the sidecar writes it (checked against docs/audit.schema.json). */
  static String request(String decision, String method, String host, int port, String path) {
    String reason =
        decision.equals("allow")
            ? "allowed by rule 'read'"
            : "no egress rule for " + host + " allows " + method + " " + path;
    return line(decision, host, method, path, reason, "http.request", "request", port, "h2");
  }

  static String splice(String host) {
    return line(
        "would-deny",
        host,
        null,
        null,
        "no egress rule allows " + host + ":443",
        "connection",
        "connection",
        443,
        "tls");
  }

  private static String line(
      String decision,
      String host,
      String method,
      String path,
      String reason,
      String type,
      String kind,
      int port,
      String protocol) {
    StringBuilder s =
        new StringBuilder("{\"ts\":\"2026-12-07T02:40:")
            .append(String.format("%02d", n % 60))
            .append(".000Z\",\"requestId\":\"abc-")
            .append(++n)
            .append(
                "\",\"session\":\"learn\",\"namespace\":\"agents\",\"user\":\"alice@example.com\",")
            .append("\"agent\":\"coding-agent\",\"decision\":\"")
            .append(decision)
            .append("\",\"host\":\"")
            .append(host)
            .append('"');
    if (method != null) {
      s.append(",\"method\":\"").append(method).append("\",\"path\":\"").append(path).append('"');
    }
    s.append(",\"latencyMicros\":10,\"reason\":\"")
        .append(reason)
        .append("\",\"type\":\"")
        .append(type)
        .append("\",\"protocol\":\"")
        .append(protocol)
        .append("\",\"destination\":{\"ip\":\"203.0.113.7\",\"port\":")
        .append(port)
        .append("}");
    if (type.equals("http.request")) {
      s.append(",\"bytesOut\":0,\"bytesIn\":2,\"durationMs\":0");
    }
    return s.append(",\"kind\":\"").append(kind).append("\"}").toString();
  }

  private static final List<String> LOG =
      List.of(
          request("allow", "GET", "api.github.com", 443, "/repos/acme/repo-a"),
          request("would-deny", "GET", "api.github.com", 443, "/repos/acme/repo-a/issues/12"),
          request("would-deny", "GET", "api.github.com", 443, "/repos/acme/repo-a/issues/13"),
          request(
              "would-deny", "POST", "api.github.com", 443, "/repos/acme/repo-a/issues/13/comments"),
          request(
              "would-deny",
              "PATCH",
              "api.github.com",
              443,
              "/repos/acme/repo-a/issues/13/comments"),
          request(
              "would-deny",
              "GET",
              "internal.test",
              8080,
              "/v1/jobs/3f2b8c1e-8a4e-4f7e-9d5c-2b1f0c9e7a11"),
          splice("files.example.org"),
          line(
              "would-deny",
              "api.github.com",
              "GET",
              "/repos/acme/repo-a",
              "rule 'github-api' injects a credential, which is never sent over plaintext HTTP: use https",
              "http.request",
              "request",
              80,
              "http/1.1"));

  private static List<AuditLine> lines() {
    List<AuditLine> out = new ArrayList<>();
    for (String l : LOG) {
      assertThat(JsonSchemas.violations(JsonSchemas.AUDIT, l)).as(l).isEmpty();
      out.add(AuditLines.parse("agent-a", l).orElseThrow());
    }
    return out;
  }

  @Test
  void groupsByHostAndMethodsWithoutCredentials() {
    RuleSuggestions s = RuleSuggestions.of(lines());
    assertThat(s.wouldDeny()).isEqualTo(7);
    assertThat(s.rules())
        .extracting(RuleSuggestions.Rule::name)
        .containsExactly(
            "api-github-com-get",
            "api-github-com-patch-post",
            "files-example-org",
            "internal-test");
    RuleSuggestions.Rule get = s.rules().getFirst();
    assertThat(get.methods()).containsExactly("GET");
    assertThat(get.paths()).containsExactly("/repos/acme/repo-a/issues/*");
    assertThat(get.seen()).isEqualTo(2);
    assertThat(s.rules().get(1).paths()).containsExactly("/repos/acme/repo-a/issues/*/comments");
    assertThat(s.rules().get(2).methods()).as("spliced: not seen").isEmpty();
    assertThat(s.rules().get(3).ports()).containsExactly(8080);
    assertThat(s.skipped()).singleElement().asString().contains("never sent over plaintext HTTP");
  }

  /**
   * The fragment is YAML the API takes, and the sidecar's own policy, compiled from it, allows
   * every request and connection it was learnt from (as Enforce).
   */
  @Test
  void theSuggestedRulesAllowWhatWasObserved() throws Exception {
    List<AuditLine> lines = lines();
    String yaml = SuggestionYaml.render(RuleSuggestions.of(lines), "test");
    assertThat(yaml).doesNotContainPattern("(?m)^\\s+credentials?:").contains("# not suggested");
    JsonNode fragment = YAML.readTree(yaml);
    var spec = (com.fasterxml.jackson.databind.node.ObjectNode) fragment.get("spec");
    spec.put("user", "alice@example.com").put("agent", "coding-agent");
    AgentSessionSpec parsed = YAML.treeToValue(spec, AgentSessionSpec.class);
    assertThat(AgentSessionValidator.validate(parsed)).isEmpty();
    Policy policy =
        Policy.compile(
            new SessionIdentity("agents", "learn", "alice@example.com", "coding-agent", null),
            parsed);
    for (AuditLine l : lines) {
      if (!"would-deny".equals(l.decision()) || !l.reason().startsWith("no egress rule")) {
        continue;
      }
      int port = l.json().path("destination").path("port").intValue();
      var connection =
          policy.onConnection(
              l.host(), new InetSocketAddress("203.0.113.7", port), ConnectionKind.TLS);
      assertThat(connection.action()).as(l.raw()).isNotEqualTo(ConnectionAction.DENY);
      if (l.method() != null) {
        var verdict =
            policy.onRequest(
                new NormalizedRequest(l.method(), l.host(), port, l.path(), l.path(), null, true));
        assertThat(verdict.allowed()).as(l.raw()).isTrue();
      }
    }
  }

  @Test
  void nothingToSuggestSaysSo() {
    String yaml =
        SuggestionYaml.render(
            RuleSuggestions.of(
                List.of(
                    AuditLines.parse(
                            "p",
                            request("allow", "GET", "api.github.com", 443, "/repos/acme/repo-a"))
                        .orElseThrow())),
            "test");
    assertThat(yaml)
        .contains("0 would-deny line(s)", "nothing to suggest")
        .doesNotContain("egress:");
  }
}
