package dev.capgate.sidecar.dataplane;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.EgressRule;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.api.v1alpha1.Injection;
import dev.capgate.api.v1alpha1.InjectionType;
import dev.capgate.api.v1alpha1.Placeholder;
import dev.capgate.api.v1alpha1.TlsMode;
import dev.capgate.api.v1alpha1.VaultAuth;
import dev.capgate.api.v1alpha1.VaultSecret;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The AgentSession a data-plane test hands the sidecar's {@code --session-file}, built from the
 * API's own types (so a test cannot write a field the CRD does not have) and written as YAML. The
 * user is alice@example.com and the agent coding-agent unless said otherwise; declaring a
 * credential adds the Vault role capgate-agent, as the CRD requires.
 */
final class SessionSpecs {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final String name;
  private String user = "alice@example.com";
  private final List<Credential> credentials = new ArrayList<>();
  private final List<EgressRule> egress = new ArrayList<>();

  private SessionSpecs(String name) {
    this.name = name;
  }

  /** A whole AgentSession named {@code name} in namespace agents. */
  static SessionSpecs session(String name) {
    return new SessionSpecs(name);
  }

  /** A bare spec, no metadata: the sidecar then enforces it under its fallback identity. */
  static SessionSpecs specOnly() {
    return new SessionSpecs(null);
  }

  SessionSpecs user(String user) {
    this.user = user;
    return this;
  }

  SessionSpecs credential(Credential credential) {
    credentials.add(credential);
    return this;
  }

  SessionSpecs egress(Rule... rules) {
    Arrays.stream(rules).map(Rule::build).forEach(egress::add);
    return this;
  }

  String yaml() {
    AgentSessionSpec spec =
        new AgentSessionSpec(
            user,
            "coding-agent",
            null,
            null,
            null,
            credentials.isEmpty() ? null : new VaultAuth("capgate-agent", null),
            credentials.isEmpty() ? null : List.copyOf(credentials),
            List.copyOf(egress));
    Map<String, Object> document = new LinkedHashMap<>();
    if (name != null) {
      document.put("apiVersion", AgentSession.GROUP + "/" + AgentSession.VERSION);
      document.put("kind", "AgentSession");
      document.put("metadata", Map.of("name", name, "namespace", "agents"));
    }
    document.put("spec", spec);
    try {
      return YAML.writeValueAsString(document);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A KV v2 credential injected as {@code Authorization: Bearer <value>}. */
  static Credential bearer(String name, String vaultPath, String field) {
    return new Credential(
        name,
        new VaultSecret(vaultPath, field, null),
        new Injection(InjectionType.BEARER, null, null, null),
        null);
  }

  /**
   * A KV v2 credential injected as {@code <header>: <template>} (template null: the value itself).
   */
  static Credential header(
      String name, String vaultPath, String field, String header, String template) {
    return new Credential(
        name,
        new VaultSecret(vaultPath, field, null),
        new Injection(InjectionType.HEADER, header, template, null),
        null);
  }

  /** {@code credential} with a placeholder the agent finds in environment variable {@code env}. */
  static Credential withPlaceholder(Credential credential, String env) {
    return new Credential(
        credential.name(), credential.vault(), credential.inject(), new Placeholder(env));
  }

  static Rule rule(String name) {
    return new Rule(name, null, null, null, null, null, null, null, null);
  }

  /** A fluent copy of EgressRule: what is not set stays absent, as in hand-written YAML. */
  record Rule(
      String name,
      List<String> hosts,
      List<String> cidrs,
      List<Integer> ports,
      List<HttpMethod> methods,
      List<String> paths,
      String credential,
      List<String> credentials,
      TlsMode tls) {
    Rule hosts(String... h) {
      return new Rule(name, List.of(h), cidrs, ports, methods, paths, credential, credentials, tls);
    }

    Rule cidrs(String... c) {
      return new Rule(name, hosts, List.of(c), ports, methods, paths, credential, credentials, tls);
    }

    Rule ports(Integer... p) {
      return new Rule(name, hosts, cidrs, List.of(p), methods, paths, credential, credentials, tls);
    }

    Rule methods(HttpMethod... m) {
      return new Rule(name, hosts, cidrs, ports, List.of(m), paths, credential, credentials, tls);
    }

    Rule paths(String... p) {
      return new Rule(name, hosts, cidrs, ports, methods, List.of(p), credential, credentials, tls);
    }

    Rule credential(String c) {
      return new Rule(name, hosts, cidrs, ports, methods, paths, c, credentials, tls);
    }

    Rule credentials(String... c) {
      return new Rule(name, hosts, cidrs, ports, methods, paths, credential, List.of(c), tls);
    }

    Rule passthrough() {
      return new Rule(
          name, hosts, cidrs, ports, methods, paths, credential, credentials, TlsMode.PASSTHROUGH);
    }

    EgressRule build() {
      return new EgressRule(
          name, hosts, cidrs, ports, methods, paths, credential, credentials, tls);
    }
  }
}
