package dev.capgate.sidecar.policy;

import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.EgressRule;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.api.v1alpha1.Injection;
import dev.capgate.api.v1alpha1.InjectionType;
import dev.capgate.api.v1alpha1.TlsMode;
import dev.capgate.api.v1alpha1.VaultAuth;
import dev.capgate.api.v1alpha1.VaultSecret;
import java.util.Arrays;
import java.util.List;

/** Small builders for session specs in tests. */
final class Specs {
  static final SessionIdentity SESSION =
      new SessionIdentity(
          "agents", "fix-issue-42", "alice@example.com", "coding-agent", "payments");

  private Specs() {}

  static AgentSessionSpec spec(EgressRule... rules) {
    List<Credential> credentials = List.of(credential("github"), credential("other"));
    return new AgentSessionSpec(
        "alice@example.com",
        "coding-agent",
        null,
        null,
        null,
        new VaultAuth("capgate-agent", null),
        credentials,
        List.of(rules));
  }

  static Credential credential(String name) {
    return new Credential(
        name,
        new VaultSecret("secret/data/" + name + "/{{user}}", "token", null),
        new Injection(InjectionType.BEARER, null, null, null),
        null);
  }

  static Policy policy(EgressRule... rules) {
    return Policy.compile(SESSION, spec(rules));
  }

  static Rule rule(String name) {
    return new Rule(name, null, null, null, null, null, null, null);
  }

  /** A fluent copy of EgressRule. */
  record Rule(
      String name,
      List<String> hosts,
      List<String> cidrs,
      List<Integer> ports,
      List<HttpMethod> methods,
      List<String> paths,
      String credential,
      TlsMode tls) {
    Rule hosts(String... h) {
      return new Rule(name, List.of(h), cidrs, ports, methods, paths, credential, tls);
    }

    Rule cidrs(String... c) {
      return new Rule(name, hosts, List.of(c), ports, methods, paths, credential, tls);
    }

    Rule ports(Integer... p) {
      return new Rule(name, hosts, cidrs, List.of(p), methods, paths, credential, tls);
    }

    Rule methods(HttpMethod... m) {
      return new Rule(name, hosts, cidrs, ports, Arrays.asList(m), paths, credential, tls);
    }

    Rule paths(String... p) {
      return new Rule(name, hosts, cidrs, ports, methods, List.of(p), credential, tls);
    }

    Rule credential(String c) {
      return new Rule(name, hosts, cidrs, ports, methods, paths, c, tls);
    }

    Rule passthrough() {
      return new Rule(name, hosts, cidrs, ports, methods, paths, credential, TlsMode.PASSTHROUGH);
    }

    EgressRule build() {
      return new EgressRule(name, hosts, cidrs, ports, methods, paths, credential, null, tls);
    }
  }

  static Policy policy(Rule... rules) {
    return policy(Arrays.stream(rules).map(Rule::build).toArray(EgressRule[]::new));
  }

  /** A request over intercepted TLS. */
  static NormalizedRequest request(String method, String host, int port, String path) {
    return new NormalizedRequest(method, host, port, path, path, null, true);
  }

  static NormalizedRequest plaintextRequest(String method, String host, int port, String path) {
    return new NormalizedRequest(method, host, port, path, path, null, false);
  }
}
