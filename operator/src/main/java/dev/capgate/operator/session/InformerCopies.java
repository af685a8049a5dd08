package dev.capgate.operator.session;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the pod and CA Secret informers keep of each object: the fields the reconciler reads ({@link
 * BoundPods}, {@link PodCaCustody}, the sidecar RoleBinding, the ledger's pod names) and what
 * JOSDK's caches key and compare on, in fresh metadata, spec and status objects.
 *
 * <p>Why (issue 13, admission at scale): these caches are most of the operator's live heap once
 * thousands of agent pods exist, and a full old generation under a burst is the webhook's p99. A
 * fabric8 model object allocates every list and map it could hold (a trimmed {@code PodSpec} still
 * carries 11 empty lists and 3 maps) and every string of a deserialized object is its own copy.
 * Here empty collections are shared immutable ones and the strings that repeat across objects
 * (keys, namespaces, session and service account names, phases, owner kinds, creation seconds) are
 * interned. Labels and annotations keep only {@code capgate.dev/} keys: the only ones read from
 * these caches. Fabric8 7.5 and JOSDK 5.2 have no metadata-only ({@code PartialObjectMetadata})
 * informer (fabric8 issues #5716, #7451), so the API server still sends whole objects; only what
 * stays in memory is small.
 *
 * <p>The cached objects are read-only by contract (JOSDK hands cached secondaries to reconciles,
 * which never change them): their empty collections are immutable.
 */
final class InformerCopies {
  /** The prefix of every label and annotation read from these caches. */
  static final String CAPGATE_KEYS = "capgate.dev/";

  private InformerCopies() {}

  /**
   * Metadata (see the class comment), {@code spec.serviceAccountName}, {@code status.phase}; the
   * pod itself made small, not a copy beside it: fabric8's informer queues the same object for the
   * event handlers, and a whole pod waiting there (~25 KiB of heap) under a burst, or the list of
   * thousands at start, is what filled the heap (a fresh operator listing 2,200 injected pods ran
   * out of its 96 MiB while the store held copies and the queue the originals).
   */
  static Pod pod(Pod pod) {
    String serviceAccount = pod.getSpec() == null ? null : pod.getSpec().getServiceAccountName();
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    pod.setApiVersion(intern(pod.getApiVersion()));
    pod.setKind(intern(pod.getKind()));
    pod.setAdditionalProperties(Map.of());
    pod.setMetadata(metadata(pod.getMetadata(), false));
    PodSpec spec = null;
    if (serviceAccount != null) {
      spec = emptySpec();
      spec.setServiceAccountName(serviceAccount.intern());
    }
    pod.setSpec(spec);
    PodStatus status = null;
    if (phase != null) {
      status = emptyStatus();
      status.setPhase(phase.intern());
    }
    pod.setStatus(status);
    return pod;
  }

  /** Metadata with owners: custody reads who owns the CA. Never the key material. In place. */
  static Secret caSecret(Secret secret) {
    secret.setApiVersion(intern(secret.getApiVersion()));
    secret.setKind(intern(secret.getKind()));
    secret.setAdditionalProperties(Map.of());
    secret.setData(Map.of());
    secret.setStringData(Map.of());
    secret.setMetadata(metadata(secret.getMetadata(), true));
    secret.setType(intern(secret.getType()));
    return secret;
  }

  private static ObjectMeta metadata(ObjectMeta from, boolean owners) {
    ObjectMeta meta = new ObjectMeta();
    meta.setAdditionalProperties(Map.of());
    meta.setFinalizers(List.of());
    meta.setManagedFields(List.of());
    if (from == null) {
      meta.setLabels(Map.of());
      meta.setAnnotations(Map.of());
      meta.setOwnerReferences(List.of());
      return meta;
    }
    meta.setName(from.getName());
    meta.setNamespace(intern(from.getNamespace()));
    meta.setUid(from.getUid());
    meta.setResourceVersion(from.getResourceVersion());
    meta.setGeneration(from.getGeneration());
    // Seconds: every pod of a burst's second shares its string.
    meta.setCreationTimestamp(intern(from.getCreationTimestamp()));
    meta.setDeletionTimestamp(intern(from.getDeletionTimestamp()));
    meta.setDeletionGracePeriodSeconds(from.getDeletionGracePeriodSeconds());
    meta.setLabels(capgateKeys(from.getLabels()));
    meta.setAnnotations(capgateKeys(from.getAnnotations()));
    meta.setOwnerReferences(owners ? owners(from.getOwnerReferences()) : List.of());
    return meta;
  }

  /**
   * The {@code capgate.dev/} entries, keys and values interned (values are session names, {@code
   * true}, {@code injected}, CA names: the last unique, the rest shared by many objects). Mutable,
   * unlike the empty ones: a {@code Map.of} throws on a null key lookup, which a reader of a
   * fabric8 map does not expect.
   */
  private static Map<String, String> capgateKeys(Map<String, String> from) {
    if (from == null || from.isEmpty()) {
      return Map.of();
    }
    Map<String, String> kept = null;
    for (Map.Entry<String, String> e : from.entrySet()) {
      if (e.getKey() != null && e.getKey().startsWith(CAPGATE_KEYS)) {
        if (kept == null) {
          kept = new LinkedHashMap<>(4);
        }
        kept.put(e.getKey().intern(), intern(e.getValue()));
      }
    }
    return kept == null ? Map.of() : kept;
  }

  private static List<OwnerReference> owners(List<OwnerReference> from) {
    if (from == null || from.isEmpty()) {
      return List.of();
    }
    List<OwnerReference> kept = new ArrayList<>(from.size());
    for (OwnerReference o : from) {
      OwnerReference copy = new OwnerReference();
      copy.setAdditionalProperties(Map.of());
      copy.setApiVersion(intern(o.getApiVersion()));
      copy.setKind(intern(o.getKind()));
      copy.setName(intern(o.getName()));
      copy.setUid(o.getUid());
      copy.setController(o.getController());
      copy.setBlockOwnerDeletion(o.getBlockOwnerDeletion());
      kept.add(copy);
    }
    return kept;
  }

  private static PodSpec emptySpec() {
    PodSpec spec = new PodSpec();
    spec.setAdditionalProperties(Map.of());
    spec.setContainers(List.of());
    spec.setEphemeralContainers(List.of());
    spec.setHostAliases(List.of());
    spec.setImagePullSecrets(List.of());
    spec.setInitContainers(List.of());
    spec.setNodeSelector(Map.of());
    spec.setOverhead(Map.of());
    spec.setReadinessGates(List.of());
    spec.setResourceClaims(List.of());
    spec.setSchedulingGates(List.of());
    spec.setTolerations(List.of());
    spec.setTopologySpreadConstraints(List.of());
    spec.setVolumes(List.of());
    return spec;
  }

  private static PodStatus emptyStatus() {
    PodStatus status = new PodStatus();
    status.setAdditionalProperties(Map.of());
    status.setConditions(List.of());
    status.setContainerStatuses(List.of());
    status.setEphemeralContainerStatuses(List.of());
    status.setHostIPs(List.of());
    status.setInitContainerStatuses(List.of());
    status.setPodIPs(List.of());
    status.setResourceClaimStatuses(List.of());
    return status;
  }

  private static String intern(String s) {
    return s == null ? null : s.intern();
  }
}
