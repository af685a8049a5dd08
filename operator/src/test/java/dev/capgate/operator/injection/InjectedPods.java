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
    return literalEnv(container(pod, SidecarContract.PROXY_CONTAINER));
  }

  /** The {@code capgate-init} container's literal environment (its uid and ports). */
  public static Map<String, String> initEnv(Pod pod) {
    return literalEnv(container(pod, SidecarContract.INIT_CONTAINER));
  }

  /** One of Capgate's two containers (both are init containers of the pod). */
  public static Container container(Pod pod, String name) {
    return pod.getSpec().getInitContainers().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name));
  }

  private static Map<String, String> literalEnv(Container container) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar var : container.getEnv()) {
      if (var.getValue() != null) {
        env.put(var.getName(), var.getValue());
      }
    }
    return env;
  }
}
