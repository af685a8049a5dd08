package dev.capgate.sidecar.policy;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionBuilder.RuleBuilder;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.EgressRule;
import java.util.Arrays;

/** Session specs and requests for policy tests (sessions through the API's AgentSessionBuilder). */
final class Specs {
  static final SessionIdentity SESSION =
      new SessionIdentity(
          "agents", "fix-issue-42", "alice@example.com", "coding-agent", "payments");

  private Specs() {}

  static AgentSessionSpec spec(EgressRule... rules) {
    return AgentSessionBuilder.specOnly()
        .user("alice@example.com")
        .agent("coding-agent")
        .vaultRole("capgate-agent")
        .credential(credential("github"), credential("other"))
        .egress(rules)
        .spec();
  }

  static Credential credential(String name) {
    return kv2(name, "secret/data/" + name + "/{{user}}", "token").bearer().build();
  }

  static Policy policy(EgressRule... rules) {
    return Policy.compile(SESSION, spec(rules));
  }

  static RuleBuilder rule(String name) {
    return AgentSessionBuilder.rule(name);
  }

  static Policy policy(RuleBuilder... rules) {
    return policy(Arrays.stream(rules).map(RuleBuilder::build).toArray(EgressRule[]::new));
  }

  /** A request over intercepted TLS. */
  static NormalizedRequest request(String method, String host, int port, String path) {
    return new NormalizedRequest(method, host, port, path, path, null, true);
  }

  static NormalizedRequest plaintextRequest(String method, String host, int port, String path) {
    return new NormalizedRequest(method, host, port, path, path, null, false);
  }
}
