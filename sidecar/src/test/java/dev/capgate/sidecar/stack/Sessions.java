package dev.capgate.sidecar.stack;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionBuilder.RuleBuilder;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.AgentSessionStatus;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.EgressRule;
import dev.capgate.api.v1alpha1.Injection;
import dev.capgate.api.v1alpha1.InjectionType;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.api.v1alpha1.VaultEngine;
import dev.capgate.api.v1alpha1.VaultSecret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;

/** AgentSessions for tests, and the status the operator would write. */
public final class Sessions {
  public static final String USER = "alice@example.com";
  public static final String AGENT = "coding-agent";

  private Sessions() {}

  public static EgressRule rule(String name, String host, String... paths) {
    RuleBuilder rule = AgentSessionBuilder.rule(name).hosts(host);
    return (paths.length == 0 ? rule : rule.paths(paths)).build();
  }

  public static EgressRule ruleWithCredentials(String name, String host, List<String> credentials) {
    return AgentSessionBuilder.rule(name)
        .hosts(host)
        .credentials(credentials.toArray(String[]::new))
        .build();
  }

  /** A bearer credential from {@code path} read by {@code engine}. */
  public static Credential credential(String name, String path, String field, VaultEngine engine) {
    return new Credential(
        name,
        new VaultSecret(path, field, engine),
        new Injection(InjectionType.BEARER, null, null, null),
        null);
  }

  public static AgentSessionSpec spec(
      String ttl, List<Credential> credentials, EgressRule... egress) {
    AgentSessionBuilder spec =
        AgentSessionBuilder.specOnly()
            .user(USER)
            .agent(AGENT)
            .project("payments")
            .ttl(ttl)
            .credential(credentials.toArray(Credential[]::new))
            .egress(egress);
    return (credentials.isEmpty() ? spec : spec.vaultRole("capgate-agent")).spec();
  }

  public static AgentSession create(
      KubernetesClient admin, String namespace, String name, AgentSessionSpec spec) {
    return admin.resource(new AgentSession(namespace, name, spec)).create();
  }

  /** Writes status.phase as the operator would (status subresource). */
  public static void setPhase(KubernetesClient admin, String namespace, String name, Phase phase) {
    AgentSession current =
        admin.resources(AgentSession.class).inNamespace(namespace).withName(name).get();
    current.setStatus(
        new AgentSessionStatus(phase, null, null, 0, current.getMetadata().getGeneration()));
    admin.resource(current).updateStatus();
  }
}
