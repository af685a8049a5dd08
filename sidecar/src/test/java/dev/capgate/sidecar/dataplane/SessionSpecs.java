package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionBuilder.RuleBuilder;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.Placeholder;

/**
 * The AgentSession a data-plane test hands the sidecar's {@code --session-file}, built from the
 * API's own types (so a test cannot write a field the CRD does not have) and written as JSON. The
 * user is alice@example.com and the agent coding-agent unless said otherwise; declaring a
 * credential adds the Vault role capgate-agent, as the CRD requires.
 */
final class SessionSpecs {
  private final AgentSessionBuilder session;
  private final boolean whole;

  private SessionSpecs(AgentSessionBuilder session, boolean whole) {
    this.session = session.user("alice@example.com").agent("coding-agent");
    this.whole = whole;
  }

  /** A whole AgentSession named {@code name} in namespace agents. */
  static SessionSpecs session(String name) {
    return new SessionSpecs(AgentSessionBuilder.session(name).namespace("agents"), true);
  }

  /** A bare spec, no metadata: the sidecar then enforces it under its fallback identity. */
  static SessionSpecs specOnly() {
    return new SessionSpecs(AgentSessionBuilder.specOnly(), false);
  }

  SessionSpecs user(String user) {
    session.user(user);
    return this;
  }

  SessionSpecs credential(Credential credential) {
    if (!session.declaresCredentials()) {
      session.vaultRole("capgate-agent");
    }
    session.credential(credential);
    return this;
  }

  /** {@code spec.limits}: over every request of the session. */
  SessionSpecs limits(dev.capgate.api.v1alpha1.Limits limits) {
    session.limits(limits);
    return this;
  }

  /** Learn mode (spec.mode Audit, which the CRD allows only with a ttl of at most 24h). */
  SessionSpecs learning() {
    session.mode(dev.capgate.api.v1alpha1.SessionMode.Audit).ttl("2h");
    return this;
  }

  SessionSpecs egress(RuleBuilder... rules) {
    session.egress(rules);
    return this;
  }

  /** What {@code --session-file} reads (JSON). */
  String json() {
    return whole ? session.json() : session.specJson();
  }

  /** A KV v2 credential injected as {@code Authorization: Bearer <value>}. */
  static Credential bearer(String name, String vaultPath, String field) {
    return kv2(name, vaultPath, field).bearer().build();
  }

  /**
   * A KV v2 credential injected as {@code <header>: <template>} (template null: the value itself).
   */
  static Credential header(
      String name, String vaultPath, String field, String header, String template) {
    return kv2(name, vaultPath, field).header(header, template).build();
  }

  /** {@code credential} with a placeholder the agent finds in environment variable {@code env}. */
  static Credential withPlaceholder(Credential credential, String env) {
    return new Credential(
        credential.name(), credential.vault(), credential.inject(), new Placeholder(env));
  }

  /** An egress rule; what is not set stays absent, as in a hand-written file. */
  static RuleBuilder rule(String name) {
    return AgentSessionBuilder.rule(name);
  }
}
