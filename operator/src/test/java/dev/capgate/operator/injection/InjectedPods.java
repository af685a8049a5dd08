package dev.capgate.operator.injection;

import dev.capgate.api.sidecar.SidecarContract;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.LinkedHashMap;
import java.util.Map;

/** What tests read back from a pod the webhook injected. */
public final class InjectedPods {
  private InjectedPods() {}

  /** The {@code capgate-proxy} container's literal environment, in the order the webhook wrote. */
  public static Map<String, String> proxyEnv(Pod pod) {
    Container proxy =
        pod.getSpec().getInitContainers().stream()
            .filter(c -> c.getName().equals(SidecarContract.PROXY_CONTAINER))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no " + SidecarContract.PROXY_CONTAINER));
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar var : proxy.getEnv()) {
      if (var.getValue() != null) {
        env.put(var.getName(), var.getValue());
      }
    }
    return env;
  }
}
