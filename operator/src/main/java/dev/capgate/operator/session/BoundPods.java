package dev.capgate.operator.session;

import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.Pod;

/** Which of a session's pods count, and as whom their sidecars act. */
final class BoundPods {
  private BoundPods() {}

  /** Not finished and not being deleted: counted in {@code status.pods}. */
  static boolean isBound(Pod pod) {
    return holdsSidecar(pod) && pod.getMetadata().getDeletionTimestamp() == null;
  }

  /**
   * A sidecar may still run (also during a deletion's grace period): it needs its Role. Only
   * injected pods: a pod merely labelled with the session (it cannot be, past the admission policy,
   * but the label is all the informer selects on) gets no RBAC and does not count.
   */
  static boolean holdsSidecar(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return PodMarkers.isInjected(pod) && !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }

  static String serviceAccount(Pod pod) {
    String sa = pod.getSpec() == null ? null : pod.getSpec().getServiceAccountName();
    return sa == null || sa.isEmpty() ? "default" : sa;
  }
}
