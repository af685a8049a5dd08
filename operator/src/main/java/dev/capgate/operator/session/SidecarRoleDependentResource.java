package dev.capgate.operator.session;

import dev.capgate.api.sidecar.SidecarRole;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.naming.SessionNames;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * What a session's sidecars may do with their own service-account identity: read this session
 * (get/list/watch, this name only) and record Vault leases in the session's ledger ConfigMap; when
 * a rule asks for approval, create and watch AgentApprovals (never decide them: see the approval
 * webhook). Nothing else: not other sessions, not secrets, not pods.
 */
@KubernetesDependent(informer = @Informer(labelSelector = SessionLabels.SIDECAR_RBAC_SELECTOR))
public class SidecarRoleDependentResource
    extends CRUDKubernetesDependentResource<Role, AgentSession> {

  public SidecarRoleDependentResource() {
    super(Role.class);
  }

  @Override
  protected Role desired(AgentSession session, Context<AgentSession> context) {
    String name = session.getMetadata().getName();
    return new RoleBuilder()
        .withNewMetadata()
        .withName(SessionNames.sidecarRbac(name))
        .withNamespace(session.getMetadata().getNamespace())
        .withLabels(SessionLabels.of(SessionLabels.SIDECAR_RBAC, name))
        .endMetadata()
        .withRules(SidecarRole.rules(name, needsApprovals(session)))
        .build();
  }

  /** Only sessions with a rule asking for approval give their pods any approval rights. */
  static boolean needsApprovals(AgentSession session) {
    return session.getSpec() != null
        && session.getSpec().egress() != null
        && session.getSpec().egress().stream().anyMatch(r -> r.approvalRequired());
  }
}
