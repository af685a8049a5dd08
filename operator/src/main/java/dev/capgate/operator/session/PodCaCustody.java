package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
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
          handOver(secret.getMetadata().getNamespace(), name, pod);
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
          delete(secret.getMetadata().getNamespace(), name);
        } else if (recheck == null || orphanedAt.isBefore(recheck)) {
          recheck = orphanedAt;
        }
      }
    }
    return Optional.ofNullable(recheck);
  }

  private void handOver(String namespace, String name, Pod pod) {
    OwnerReference owner =
        new OwnerReferenceBuilder()
            .withApiVersion("v1")
            .withKind("Pod")
            .withName(pod.getMetadata().getName())
            .withUid(pod.getMetadata().getUid())
            .build();
    try {
      // A CA minted before issue 13 also has a ConfigMap (the agents' trust files): first, since
      // the Secret's owner is what marks the hand-over as done. Newer CAs have none.
      if (client.configMaps().inNamespace(namespace).withName(name).get() != null) {
        client.configMaps().inNamespace(namespace).withName(name).edit(cm -> withOwner(cm, owner));
      }
      client.secrets().inNamespace(namespace).withName(name).edit(s -> withOwner(s, owner));
      LOG.info("CA {} now belongs to pod {}", name, pod.getMetadata().getName());
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  private void delete(String namespace, String name) {
    client.configMaps().inNamespace(namespace).withName(name).delete();
    client.secrets().inNamespace(namespace).withName(name).delete();
  }

  private static <T extends HasMetadata> T withOwner(T object, OwnerReference owner) {
    object.getMetadata().setOwnerReferences(List.of(owner));
    return object;
  }

  static boolean ownedBy(HasMetadata object, String uid) {
    return object.getMetadata().getOwnerReferences() != null
        && object.getMetadata().getOwnerReferences().stream().anyMatch(o -> uid.equals(o.getUid()));
  }
}
