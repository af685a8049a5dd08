package dev.capgate.sidecar.session;

import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Phase;

/**
 * The parts of an AgentSession as the API server sent it that decide the sidecar's traffic: plain
 * values, read by {@link SessionReader} from the object's JSON (the sidecar carries no Kubernetes
 * object model).
 *
 * @param uid metadata.uid: a re-created session of the same name is another session
 * @param generation metadata.generation (0 when absent)
 * @param creationTimestamp metadata.creationTimestamp (RFC 3339), the start of spec.ttl
 * @param deletionTimestamp metadata.deletionTimestamp, non-null while the object is being deleted
 * @param resourceVersion metadata.resourceVersion (the watch's consistency check)
 * @param spec the spec (read leniently when it had unknown fields; null when absent or unreadable)
 * @param phase status.phase, null when there is no (readable) status
 */
record ObservedSession(
    String namespace,
    String name,
    String uid,
    long generation,
    String creationTimestamp,
    String deletionTimestamp,
    String resourceVersion,
    AgentSessionSpec spec,
    Phase phase) {

  String where() {
    return namespace + "/" + name;
  }
}
