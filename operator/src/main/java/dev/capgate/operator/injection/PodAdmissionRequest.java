package dev.capgate.operator.injection;

import io.fabric8.kubernetes.api.model.Pod;

/**
 * The parts of an AdmissionReview request the decision needs.
 *
 * @param uid the request uid (logs)
 * @param operation CREATE, UPDATE, ...
 * @param subResource e.g. {@code ephemeralcontainers}, or null
 * @param namespace the request namespace (a pod's own namespace may still be empty at CREATE)
 * @param dryRun true for {@code --dry-run=server}: no side effects (no CA Secret is created)
 * @param pod the pod as submitted
 * @param oldPod on UPDATE, the pod as stored before it; else null
 */
public record PodAdmissionRequest(
    String uid,
    String operation,
    String subResource,
    String namespace,
    boolean dryRun,
    Pod pod,
    Pod oldPod) {

  public PodAdmissionRequest(
      String uid, String operation, String subResource, String namespace, boolean dryRun, Pod pod) {
    this(uid, operation, subResource, namespace, dryRun, pod, null);
  }

  /** The pod's name, or its generateName with a {@code *} when the name is not known yet. */
  public String podDescription() {
    var meta = pod.getMetadata();
    if (meta == null) {
      return "(unnamed)";
    }
    if (meta.getName() != null && !meta.getName().isEmpty()) {
      return meta.getName();
    }
    return meta.getGenerateName() == null ? "(unnamed)" : meta.getGenerateName() + "*";
  }
}
