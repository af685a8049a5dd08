package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.naming.SessionNames;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;

/**
 * The ledger where a session's sidecars record the Vault leases and token accessors they obtain
 * (keys and name: {@link dev.capgate.api.sidecar.LeaseLedger}, shared with the sidecar), so
 * revocation can find them. Created empty and never updated by the operator (the sidecars write it;
 * the Role lets them update this one name), except that revocation removes what it revoked.
 */
@KubernetesDependent(informer = @Informer(labelSelector = SessionLabels.LEASE_LEDGER_SELECTOR))
public class LeaseLedgerDependentResource
    extends KubernetesDependentResource<ConfigMap, AgentSession>
    implements Creator<ConfigMap, AgentSession>, GarbageCollected<AgentSession> {

  public LeaseLedgerDependentResource() {
    super(ConfigMap.class);
  }

  @Override
  protected ConfigMap desired(AgentSession session, Context<AgentSession> context) {
    String name = session.getMetadata().getName();
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(SessionNames.leases(name))
        .withNamespace(session.getMetadata().getNamespace())
        .withLabels(SessionLabels.of(SessionLabels.LEASE_LEDGER, name))
        .endMetadata()
        .build();
  }
}
