package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn.Type;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
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
// `kubectl get capgate` lists every Capgate object.
@Categories("capgate")
@AdditionalPrinterColumn(name = "User", jsonPath = ".spec.user", type = Type.STRING)
@AdditionalPrinterColumn(name = "Agent", jsonPath = ".spec.agent", type = Type.STRING)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = Type.STRING)
// Learn mode lets any host through: a session in it should not go unnoticed.
@AdditionalPrinterColumn(name = "Mode", jsonPath = ".spec.mode", type = Type.STRING)
@AdditionalPrinterColumn(name = "Pods", jsonPath = ".status.pods", type = Type.INTEGER)
// A string, not a date: kubectl prints future dates as <invalid>.
@AdditionalPrinterColumn(name = "Expires", jsonPath = ".status.expiresAt", type = Type.STRING)
@AdditionalPrinterColumn(
    name = "Denials",
    jsonPath = ".status.activity.denials",
    type = Type.INTEGER)
// A date: kubectl prints its age ("12s"), which is what "is the agent still doing anything" asks.
@AdditionalPrinterColumn(
    name = "Last-Activity",
    jsonPath = ".status.activity.lastActivity",
    type = Type.DATE)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
public class AgentSession extends CustomResource<AgentSessionSpec, AgentSessionStatus>
    implements Namespaced {
  public static final String GROUP = "capgate.dev";
  public static final String VERSION = "v1alpha1";

  /**
   * Recovery after compromise: set to an RFC 3339 UTC timestamp (now), the operator revokes the
   * session's Vault tokens and leases and restarts its pods, once per value newer than {@code
   * status.lastRecovery} (operator/README.md "Recovery after compromise"; {@code kubectl capgate
   * recover} sets it).
   */
  public static final String RECOVER_ANNOTATION = "capgate.dev/recover";

  /**
   * The condition that tells how the last recovery went, with reason {@link #RECOVERY_COMPLETED} or
   * {@link #RECOVERY_FAILED}: written by the operator, read by {@code kubectl capgate recover}.
   */
  public static final String RECOVERED_CONDITION = "Recovered";

  public static final String RECOVERY_COMPLETED = "RecoveryCompleted";
  public static final String RECOVERY_FAILED = "RecoveryFailed";

  /**
   * The label naming the session on every injected pod (the webhook writes it) and on the objects
   * the operator makes per session; the plugin finds a session's pods by it.
   */
  public static final String SESSION_LABEL = "capgate.dev/session";

  public AgentSession() {}

  public AgentSession(String namespace, String name, AgentSessionSpec spec) {
    getMetadata().setNamespace(namespace);
    getMetadata().setName(name);
    setSpec(spec);
  }

  // Overridden only to describe spec and status for `kubectl explain agentsession`.
  @Override
  @JsonPropertyDescription(
      "What the user delegates to the agent: egress rules, the credentials injected on them, the"
          + " session lifetime and what happens on revocation.")
  public AgentSessionSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription(
      "Observed by the operator: the phase sidecars enforce, conditions, expiry and bound pods.")
  public AgentSessionStatus getStatus() {
    return super.getStatus();
  }
}
