package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.ca.PodCaObjects;
import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who owns a pod's CA objects. At admission the pod has no uid yet, so the webhook makes the
 * session their owner; once the pod exists they are handed to the pod, so Kubernetes deletes them
 * with it. A CA whose pod never appeared (a later admission step refused it) is deleted after a
 * grace period.
 */
final class PodCaCustody {
  private static final Logger LOG = LoggerFactory.getLogger(PodCaCustody.class);

  private final KubernetesClient client;
  private final Duration orphanGrace;

  PodCaCustody(KubernetesClient client, Duration orphanGrace) {
    this.client = client;
    this.orphanGrace = orphanGrace;
  }

  /**
   * @param caSecrets the session's CA Secrets (metadata only is enough)
   * @return when to look again for a CA that may still turn out orphaned
   */
  Optional<Instant> reconcile(
      AgentSession session, Collection<Pod> pods, Collection<Secret> caSecrets, Instant now) {
    Map<String, Pod> podByCa = new HashMap<>();
    for (Pod pod : pods) {
      String ca = PodMarkers.annotation(pod, PodMarkers.CA);
      if (ca != null && pod.getMetadata().getUid() != null) {
        podByCa.put(ca, pod);
      }
    }
    Instant recheck = null;
    for (Secret secret : caSecrets) {
      String name = secret.getMetadata().getName();
      Pod pod = podByCa.get(name);
      if (pod != null) {
        if (!ownedBy(secret, pod.getMetadata().getUid())) {
          handOver(secret, pod);
        }
      } else if (ownedBy(secret, session.getMetadata().getUid())) {
        Instant created = Instant.parse(secret.getMetadata().getCreationTimestamp());
        Instant orphanedAt = created.plus(orphanGrace);
        if (!orphanedAt.isAfter(now)) {
          LOG.info(
              "deleting CA {} of session {}: no pod took it within {}",
              name,
              session.getMetadata().getName(),
              orphanGrace);
          delete(secret);
        } else if (recheck == null || orphanedAt.isBefore(recheck)) {
          recheck = orphanedAt;
        }
      }
    }
    return Optional.ofNullable(recheck);
  }

  private void handOver(Secret secret, Pod pod) {
    String namespace = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    OwnerReference owner =
        new OwnerReferenceBuilder()
            .withApiVersion("v1")
            .withKind("Pod")
            .withName(pod.getMetadata().getName())
            .withUid(pod.getMetadata().getUid())
            .build();
    // One merge patch per object, no read first (issue 13: a burst of admissions is a burst of
    // hand-overs). It replaces the list: the session stops owning the CA.
    String patch =
        "{\"metadata\":{\"ownerReferences\":["
            + client.getKubernetesSerialization().asJson(owner)
            + "]}}";
    PatchContext merge = PatchContext.of(PatchType.JSON_MERGE);
    try {
      if (!trustInPod(secret)) {
        // A CA minted before issue 13 also has a ConfigMap (the agents' trust files): first, since
        // the Secret's owner is what marks the hand-over as done.
        client.configMaps().inNamespace(namespace).withName(name).patch(merge, patch);
      }
      client.secrets().inNamespace(namespace).withName(name).patch(merge, patch);
      LOG.info("CA {} now belongs to pod {}", name, pod.getMetadata().getName());
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  private static boolean trustInPod(Secret secret) {
    return secret.getMetadata().getLabels() != null
        && "true".equals(secret.getMetadata().getLabels().get(PodCaObjects.TRUST_IN_POD_LABEL));
  }

  private void delete(Secret secret) {
    String namespace = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    if (!trustInPod(secret)) {
      client.configMaps().inNamespace(namespace).withName(name).delete();
    }
    client.secrets().inNamespace(namespace).withName(name).delete();
  }

  static boolean ownedBy(HasMetadata object, String uid) {
    return object.getMetadata().getOwnerReferences() != null
        && object.getMetadata().getOwnerReferences().stream().anyMatch(o -> uid.equals(o.getUid()));
  }
}
