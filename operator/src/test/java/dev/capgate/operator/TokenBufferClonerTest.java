package dev.capgate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

class TokenBufferClonerTest {
  private final TokenBufferCloner cloner = new TokenBufferCloner(new KubernetesSerialization());

  @Test
  void aDeepCopyEqualToTheOriginal() {
    Pod pod =
        TestPods.agent()
            .editMetadata()
            .addToLabels("capgate.dev/session", "s")
            .endMetadata()
            .build();

    Pod copy = cloner.clone(pod);

    assertThat(copy).isEqualTo(pod).isNotSameAs(pod);
    // A reconcile may change its copy: nothing of the cached object may be shared.
    copy.getMetadata().getLabels().put("changed", "yes");
    copy.getSpec().getContainers().getFirst().setImage("other");
    assertThat(pod.getMetadata().getLabels()).doesNotContainKey("changed");
    assertThat(pod.getSpec().getContainers().getFirst().getImage()).isEqualTo("agent:1");
  }
}
