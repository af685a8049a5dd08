package dev.capgate.operator.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the pod and CA Secret caches keep: what the reconciler reads, and nothing else. */
class InformerCopiesTest {
  private static final OwnerReference SESSION_OWNER =
      new OwnerReferenceBuilder()
          .withApiVersion("capgate.dev/v1alpha1")
          .withKind("AgentSession")
          .withName("s1")
          .withUid("session-uid")
          .build();

  @Test
  void aPodKeepsWhatBoundPodsCustodyAndTheRoleBindingRead() {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("agent-1")
            .withNamespace("team-a")
            .withUid("pod-uid")
            .withResourceVersion("42")
            .withCreationTimestamp("2026-12-07T21:00:00Z")
            .withDeletionTimestamp("2026-12-07T21:05:00Z")
            .withLabels(Map.of(PodMarkers.SESSION, "s1", "app", "agent", "pod-template-hash", "x"))
            .withAnnotations(
                Map.of(
                    PodMarkers.STATUS,
                    PodMarkers.STATUS_INJECTED,
                    PodMarkers.CA,
                    "capgate-ca-abc",
                    "kubectl.kubernetes.io/last-applied-configuration",
                    "{\"big\":true}"))
            .withOwnerReferences(
                new OwnerReferenceBuilder().withKind("ReplicaSet").withName("rs").build())
            .withManagedFields(new ManagedFieldsEntryBuilder().withManager("kubectl").build())
            .endMetadata()
            .withNewSpec()
            .withServiceAccountName("agent-sa")
            .addNewContainer()
            .withName("agent")
            .withImage("agent:1")
            .endContainer()
            .withNodeName("node-1")
            .endSpec()
            .withNewStatus()
            .withPhase("Running")
            .withPodIP("10.0.0.1")
            .endStatus()
            .build();

    boolean holdsSidecar = BoundPods.holdsSidecar(pod);
    boolean bound = BoundPods.isBound(pod);
    Pod copy = InformerCopies.pod(pod);

    // In place: the informer queues this same object for the event handlers.
    assertThat(copy).isSameAs(pod);
    assertThat(copy.getMetadata().getName()).isEqualTo("agent-1");
    assertThat(copy.getMetadata().getNamespace()).isEqualTo("team-a");
    assertThat(copy.getMetadata().getUid()).isEqualTo("pod-uid");
    assertThat(copy.getMetadata().getResourceVersion()).isEqualTo("42");
    assertThat(copy.getMetadata().getDeletionTimestamp()).isEqualTo("2026-12-07T21:05:00Z");
    assertThat(copy.getMetadata().getLabels()).containsOnlyKeys(PodMarkers.SESSION);
    assertThat(copy.getMetadata().getAnnotations())
        .containsOnlyKeys(PodMarkers.STATUS, PodMarkers.CA);
    assertThat(copy.getMetadata().getOwnerReferences()).isEmpty();
    assertThat(copy.getMetadata().getManagedFields()).isEmpty();
    assertThat(copy.getSpec().getContainers()).isEmpty();
    assertThat(copy.getSpec().getNodeName()).isNull();
    assertThat(copy.getStatus().getPodIP()).isNull();
    // What the reconciler decides on reads the same from the copy as from the pod.
    assertThat(PodMarkers.isInjected(copy)).isTrue();
    assertThat(PodMarkers.annotation(copy, PodMarkers.CA)).isEqualTo("capgate-ca-abc");
    assertThat(BoundPods.holdsSidecar(copy)).isEqualTo(holdsSidecar).isTrue();
    assertThat(BoundPods.isBound(copy)).isEqualTo(bound).isFalse();
    assertThat(BoundPods.serviceAccount(copy)).isEqualTo("agent-sa");
    assertThat(
            SidecarRoleBindingDependentResource.subjects(
                "team-a", java.util.List.of(InformerCopies.pod(finished(copy)))))
        .isEmpty();
    // Strings many cached objects share are one instance each.
    assertThat(copy.getMetadata().getNamespace()).isSameAs("team-a".intern());
    assertThat(copy.getSpec().getServiceAccountName()).isSameAs("agent-sa".intern());
  }

  @Test
  void aPodWithoutSpecOrStatusCountsAsTheDefaultServiceAccount() {
    Pod copy =
        InformerCopies.pod(new PodBuilder().withNewMetadata().withName("p").endMetadata().build());
    assertThat(copy.getSpec()).isNull();
    assertThat(copy.getStatus()).isNull();
    assertThat(BoundPods.serviceAccount(copy)).isEqualTo("default");
    assertThat(copy.getMetadata().getLabels()).isEmpty();
  }

  @Test
  void aCaSecretKeepsItsOwnersAndLabelsButNoKeyMaterial() {
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withName("capgate-ca-abc")
            .withNamespace("team-a")
            .withUid("secret-uid")
            .withResourceVersion("7")
            .withCreationTimestamp("2026-12-07T21:00:00Z")
            .withLabels(
                Map.of(
                    SessionLabels.COMPONENT,
                    "pod-ca",
                    "capgate.dev/trust-in-pod",
                    "true",
                    SessionLabels.MANAGED_BY,
                    "capgate"))
            .withOwnerReferences(SESSION_OWNER)
            .withManagedFields(new ManagedFieldsEntryBuilder().withManager("capgate").build())
            .endMetadata()
            .withType("kubernetes.io/tls")
            .withImmutable(true)
            .withData(Map.of("tls.key", "c2VjcmV0"))
            .withStringData(Map.of("x", "y"))
            .build();

    Secret copy = InformerCopies.caSecret(secret);

    assertThat(copy.getData()).isEmpty();
    assertThat(copy.getStringData()).isEmpty();
    assertThat(copy.getMetadata().getManagedFields()).isEmpty();
    assertThat(copy.getMetadata().getLabels())
        .containsOnlyKeys(SessionLabels.COMPONENT, "capgate.dev/trust-in-pod");
    assertThat(copy.getMetadata().getOwnerReferences()).containsExactly(SESSION_OWNER);
    assertThat(PodCaCustody.ownedBy(copy, "session-uid")).isTrue();
    assertThat(copy.getMetadata().getCreationTimestamp()).isEqualTo("2026-12-07T21:00:00Z");
    assertThat(copy.getMetadata().getResourceVersion()).isEqualTo("7");
    assertThat(copy).isSameAs(secret);
  }

  private static Pod finished(Pod pod) {
    return new PodBuilder(pod).editStatus().withPhase("Succeeded").endStatus().build();
  }
}
