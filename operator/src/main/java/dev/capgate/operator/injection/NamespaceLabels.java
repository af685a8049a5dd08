package dev.capgate.operator.injection;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The labels of agent namespaces, as {@link NamespacePodSecurity} judges them: read once per
 * namespace and {@link #TTL}, not at every injection (issue 13: each API round trip inside the
 * webhook call adds to every pod start). A label changed meanwhile only delays a better error
 * message: PodSecurity admission runs after the webhook and enforces the current label anyway.
 */
final class NamespaceLabels {
  static final Duration TTL = Duration.ofSeconds(30);

  private record Read(Map<String, String> labels, Instant at) {}

  private final KubernetesClient client;
  private final Clock clock;
  private final ConcurrentHashMap<String, Read> reads = new ConcurrentHashMap<>();

  NamespaceLabels(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  /**
   * @throws io.fabric8.kubernetes.client.KubernetesClientException when the namespace cannot be
   *     read (not remembered: the next injection tries again)
   */
  Map<String, String> of(String namespace) {
    Instant now = clock.instant();
    Read last = reads.get(namespace);
    if (last != null && now.isBefore(last.at().plus(TTL))) {
      return last.labels();
    }
    Namespace found = client.namespaces().withName(namespace).get();
    Map<String, String> labels =
        found == null || found.getMetadata().getLabels() == null
            ? Map.of()
            : Map.copyOf(found.getMetadata().getLabels());
    reads.put(namespace, new Read(labels, now));
    return labels;
  }
}
