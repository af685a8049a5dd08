package dev.capgate.sidecar.audit;

/**
 * The pod this sidecar serves, written in every audit line as {@code "pod":{...}}. The same for the
 * whole process, so it is held by {@link AuditLog} and costs nothing per event. The webhook sets
 * the name and uid from the downward API; the namespace is the session's (the webhook admits a pod
 * only into its session's namespace).
 *
 * @param name null when unknown (a sidecar run by hand)
 * @param namespace null when unknown
 * @param uid null when unknown
 */
public record PodRef(String name, String namespace, String uid) {
  public static final PodRef UNKNOWN = new PodRef(null, null, null);

  boolean known() {
    return name != null || namespace != null || uid != null;
  }
}
