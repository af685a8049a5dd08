package dev.capgate.operator.identity;

import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.naming.SessionNames;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Map;

/**
 * The accessors of the Vault tokens the operator issued for a session, in ConfigMap {@code
 * capgate-tokens-<session>} (owned by the session, so it goes with it). Only the operator writes it
 * — the sidecars' Role grants the lease ledger, not this — so revocation does not depend on what a
 * pod of the session chose to record. Keys are {@code accessor.<20 hex of sha256>} ({@link
 * LeaseLedger}): each issuance adds its own key with a JSON merge patch, so concurrent issuances
 * never conflict.
 */
public final class TokenLedger {
  public static final String KEY_PREFIX = LeaseLedger.ACCESSOR_KEY_PREFIX;
  static final String COMPONENT = "vault-tokens";

  private final KubernetesClient client;

  public TokenLedger(KubernetesClient client) {
    this.client = client;
  }

  public static String name(String session) {
    return SessionNames.tokens(session);
  }

  /** The same key format as the sidecars' ledger ({@link LeaseLedger#accessorKey}). */
  public static String key(String accessor) {
    return LeaseLedger.accessorKey(accessor);
  }

  /** Adds the accessor; creates the ConfigMap on the session's first issuance. */
  public void record(AgentSession session, String accessor) {
    String namespace = session.getMetadata().getNamespace();
    String name = name(session.getMetadata().getName());
    String patch =
        io.fabric8.kubernetes.client.utils.Serialization.asJson(
            Map.of("data", Map.of(key(accessor), accessor)));
    var resource = client.configMaps().inNamespace(namespace).withName(name);
    if (resource.get() == null) {
      ConfigMap created =
          new ConfigMapBuilder()
              .withNewMetadata()
              .withNamespace(namespace)
              .withName(name)
              .withLabels(
                  Map.of(
                      "capgate.dev/component",
                      COMPONENT,
                      AgentSession.SESSION_LABEL,
                      session.getMetadata().getName(),
                      "app.kubernetes.io/managed-by",
                      "capgate"))
              .withOwnerReferences(
                  new OwnerReferenceBuilder()
                      .withApiVersion(session.getApiVersion())
                      .withKind(session.getKind())
                      .withName(session.getMetadata().getName())
                      .withUid(session.getMetadata().getUid())
                      .withController(false)
                      .build())
              .endMetadata()
              .withData(Map.of(key(accessor), accessor))
              .build();
      try {
        client.configMaps().resource(created).create();
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        // Created meanwhile by a concurrent issuance: add to it.
      }
    }
    resource.patch(PatchContext.of(PatchType.JSON_MERGE), patch);
  }

  /** Key → accessor; empty when the session never got a token. */
  public Map<String, String> accessors(String namespace, String session) {
    ConfigMap ledger = client.configMaps().inNamespace(namespace).withName(name(session)).get();
    return ledger == null || ledger.getData() == null ? Map.of() : Map.copyOf(ledger.getData());
  }
}
