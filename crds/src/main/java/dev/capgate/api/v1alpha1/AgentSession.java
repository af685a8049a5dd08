package dev.capgate.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn.Type;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A delegation from a user to an agent: which egress the agent's pods may use and which credential
 * the sidecar injects on which route. The agent holds a capability, never the secret.
 */
@Group(AgentSession.GROUP)
@Version(AgentSession.VERSION)
@ShortNames("ags")
@AdditionalPrinterColumn(name = "User", jsonPath = ".spec.user", type = Type.STRING)
@AdditionalPrinterColumn(name = "Agent", jsonPath = ".spec.agent", type = Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = Type.STRING)
@AdditionalPrinterColumn(name = "Pods", jsonPath = ".status.pods", type = Type.INTEGER)
// A string, not a date: kubectl prints future dates as <invalid>.
@AdditionalPrinterColumn(name = "Expires", jsonPath = ".status.expiresAt", type = Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
public class AgentSession extends CustomResource<AgentSessionSpec, AgentSessionStatus>
    implements Namespaced {
  public static final String GROUP = "capgate.dev";
  public static final String VERSION = "v1alpha1";

  public AgentSession() {}

  public AgentSession(String namespace, String name, AgentSessionSpec spec) {
    getMetadata().setNamespace(namespace);
    getMetadata().setName(name);
    setSpec(spec);
  }
}
