package dev.capgate.sidecar.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.PodNetns;

/**
 * The start every data-plane test shares: a pod network namespace with the init rules and the test
 * upstreams.
 */
final class DataPlanePod {
  private DataPlanePod() {}

  /**
   * @param vaultAddress where the upstreams forward Vault traffic (198.18.0.2:8200), or null for a
   *     test without credentials
   */
  static PodNetns start(String name, String vaultAddress) {
    PodNetns pod = PodNetns.create(name);
    try {
      assertThat(pod.runInit().requireSuccess().exitCode()).isZero();
      pod.startUpstreams(vaultAddress);
      return pod;
    } catch (RuntimeException | Error e) {
      // The caller never gets the pod to close: do it here, or its namespaces outlive the test.
      pod.close();
      throw e;
    }
  }
}
