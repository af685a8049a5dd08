package dev.capgate.cli.kube;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.AgentSession;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/**
 * A session's pods and their sidecars' logs. The webhook labels every injected pod with its session
 * ({@link #SESSION_LABEL}: {@link AgentSession#SESSION_LABEL}, which the operator uses too), and
 * the sidecar writes its audit lines to the stdout of {@link SidecarContract#PROXY_CONTAINER}.
 */
public final class SessionPods {
  /** The pod label naming the session. */
  public static final String SESSION_LABEL = AgentSession.SESSION_LABEL;

  private final KubernetesClient client;
  private final String namespace;

  public SessionPods(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** The pods of one session, by name. */
  public List<Pod> of(String session) {
    return sorted(
        client.pods().inNamespace(namespace).withLabel(SESSION_LABEL, session).list().getItems());
  }

  /** The pods of every session in the namespace. */
  public List<Pod> all() {
    return sorted(client.pods().inNamespace(namespace).withLabel(SESSION_LABEL).list().getItems());
  }

  /**
   * Whether the pod has the proxy container (an injected pod), whatever its state. The webhook adds
   * it as a native sidecar (an init container that keeps running); a plain container is accepted
   * too.
   */
  public static boolean hasProxy(Pod pod) {
    if (pod.getSpec() == null) {
      return false;
    }
    return java.util.stream.Stream.concat(
            pod.getSpec().getInitContainers().stream(), pod.getSpec().getContainers().stream())
        .anyMatch(c -> SidecarContract.PROXY_CONTAINER.equals(c.getName()));
  }

  /**
   * The proxy container's log (stdout and stderr, as the kubelet keeps them), from {@code since}
   * when given.
   *
   * @throws io.fabric8.kubernetes.client.KubernetesClientException when there is none to read (the
   *     container has not started, the node is gone): the API server's message says which
   */
  public String proxyLog(Pod pod, Instant since) {
    var container =
        client
            .pods()
            .inNamespace(namespace)
            .withName(pod.getMetadata().getName())
            .inContainer(SidecarContract.PROXY_CONTAINER);
    String log =
        since == null ? container.getLog() : container.sinceTime(sinceTime(since)).getLog();
    return log == null ? "" : log;
  }

  /**
   * Like {@link #proxyLog}, but a pod whose log cannot be read is skipped with a warning (one pod
   * still starting must not hide the others' lines).
   */
  public String proxyLogOrWarn(Pod pod, Instant since, java.io.PrintWriter warnings) {
    if (!proxyStarted(pod)) {
      warnings.println(
          "warning: no log from pod "
              + pod.getMetadata().getName()
              + ": its "
              + SidecarContract.PROXY_CONTAINER
              + " container has not started");
      warnings.flush();
      return "";
    }
    try {
      return proxyLog(pod, since);
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      String why =
          e.getStatus() != null && e.getStatus().getMessage() != null
              ? e.getStatus().getMessage()
              : e.getMessage();
      warnings.println("warning: no log from pod " + pod.getMetadata().getName() + ": " + why);
      warnings.flush();
      return "";
    }
  }

  /**
   * Whether the proxy container has run (a log may exist): running or terminated, in any attempt.
   */
  public static boolean proxyStarted(Pod pod) {
    if (pod.getStatus() == null) {
      return false;
    }
    return java.util.stream.Stream.concat(
            pod.getStatus().getInitContainerStatuses().stream(),
            pod.getStatus().getContainerStatuses().stream())
        .filter(c -> SidecarContract.PROXY_CONTAINER.equals(c.getName()))
        .anyMatch(
            c ->
                c.getState() != null
                        && (c.getState().getRunning() != null
                            || c.getState().getTerminated() != null)
                    || c.getRestartCount() != null && c.getRestartCount() > 0);
  }

  /** Follows the proxy container's log from {@code since} (null: from its start). */
  public LogWatch followProxyLog(Pod pod, Instant since) {
    var container =
        client
            .pods()
            .inNamespace(namespace)
            .withName(pod.getMetadata().getName())
            .inContainer(SidecarContract.PROXY_CONTAINER);
    return since == null ? container.watchLog() : container.sinceTime(sinceTime(since)).watchLog();
  }

  /**
   * Whole seconds, rounded down: the API server's {@code sinceTime} is RFC 3339; the caller filters
   * the few earlier lines this lets through by their own {@code ts}.
   */
  private static String sinceTime(Instant since) {
    return since.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
  }

  private static List<Pod> sorted(List<Pod> pods) {
    return pods.stream().sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList();
  }
}
