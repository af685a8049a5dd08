package dev.capgate.operator.naming;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;
import java.util.Optional;

/**
 * Labels and annotations that tie a pod to Capgate.
 *
 * <p>Opt-in is the <b>label</b> {@code capgate.dev/inject: "true"}: the webhook configuration
 * selects pods by it (objectSelector), so unrelated pods never wait for the webhook. The same key
 * as an annotation is also honoured once a pod reaches the webhook, but on its own it does not make
 * the pod reach it. The session is named by {@code capgate.dev/session}, as a label or an
 * annotation; injection writes it as a label (the operator watches pods by it).
 */
public final class PodMarkers {
  public static final String INJECT = "capgate.dev/inject";
  public static final String SESSION = dev.capgate.api.v1alpha1.AgentSession.SESSION_LABEL;

  /** {@code injected} once the webhook mutated the pod: re-invocation is then a no-op. */
  public static final String STATUS = "capgate.dev/status";

  public static final String STATUS_INJECTED = "injected";

  /** Name of the pod CA's Secret (key, sidecar only) and ConfigMap (public part). */
  public static final String CA = "capgate.dev/ca";

  public static final String CA_FINGERPRINT = "capgate.dev/ca-fingerprint";

  private PodMarkers() {}

  public static boolean wantsInjection(Pod pod) {
    return "true".equals(label(pod, INJECT)) || "true".equals(annotation(pod, INJECT));
  }

  public static Optional<String> session(Pod pod) {
    String name = label(pod, SESSION);
    if (name == null || name.isBlank()) {
      name = annotation(pod, SESSION);
    }
    return name == null || name.isBlank() ? Optional.empty() : Optional.of(name);
  }

  public static boolean isInjected(Pod pod) {
    return STATUS_INJECTED.equals(annotation(pod, STATUS));
  }

  public static String label(Pod pod, String key) {
    return get(pod.getMetadata() == null ? null : pod.getMetadata().getLabels(), key);
  }

  public static String annotation(Pod pod, String key) {
    return get(pod.getMetadata() == null ? null : pod.getMetadata().getAnnotations(), key);
  }

  private static String get(Map<String, String> map, String key) {
    return map == null ? null : map.get(key);
  }
}
