package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.naming.SessionNames;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.rbac.SubjectBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import java.util.List;
import java.util.TreeSet;

/**
 * Binds the sidecar Role to the service accounts the session's pods run as (distinct, sorted): a
 * service account gains the Role when its first pod binds to the session and loses it when its last
 * one is gone.
 */
@KubernetesDependent(informer = @Informer(labelSelector = SessionLabels.SIDECAR_RBAC_SELECTOR))
public class SidecarRoleBindingDependentResource
    extends CRUDKubernetesDependentResource<RoleBinding, AgentSession> {

  public SidecarRoleBindingDependentResource() {
    super(RoleBinding.class);
  }

  @Override
  protected RoleBinding desired(AgentSession session, Context<AgentSession> context) {
    String name = session.getMetadata().getName();
    String namespace = session.getMetadata().getNamespace();
    return new RoleBindingBuilder()
        .withNewMetadata()
        .withName(SessionNames.sidecarRbac(name))
        .withNamespace(namespace)
        .withLabels(SessionLabels.of(SessionLabels.SIDECAR_RBAC, name))
        .endMetadata()
        .withNewRoleRef()
        .withApiGroup("rbac.authorization.k8s.io")
        .withKind("Role")
        .withName(SessionNames.sidecarRbac(name))
        .endRoleRef()
        .withSubjects(
            subjects(namespace, context.getSecondaryResourcesAsStream(Pod.class).toList()))
        .build();
  }

  static List<Subject> subjects(String namespace, Iterable<Pod> pods) {
    TreeSet<String> accounts = new TreeSet<>();
    for (Pod pod : pods) {
      if (BoundPods.holdsSidecar(pod)) {
        accounts.add(BoundPods.serviceAccount(pod));
      }
    }
    return accounts.stream()
        .map(
            sa ->
                new SubjectBuilder()
                    .withKind("ServiceAccount")
                    .withName(sa)
                    .withNamespace(namespace)
                    .build())
        .toList();
  }
}
