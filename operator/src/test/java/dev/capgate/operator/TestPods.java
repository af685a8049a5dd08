package dev.capgate.operator;

import io.fabric8.kubernetes.api.model.PodBuilder;

/** Pods for unit tests, built in memory: the plainest agent pod, for a test to add to. */
public final class TestPods {
  private TestPods() {}

  /** Pod {@code agents/agent} with one container {@code agent} ({@code agent:1}), nothing else. */
  public static PodBuilder agent() {
    return new PodBuilder()
        .withNewMetadata()
        .withName("agent")
        .withNamespace("agents")
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("agent")
        .withImage("agent:1")
        .endContainer()
        .endSpec();
  }
}
