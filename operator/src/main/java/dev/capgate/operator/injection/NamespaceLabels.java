package dev.capgate.operator.injection;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The labels of agent namespaces, as {@link NamespacePodSecurity} judges them: read inside the
 * webhook call for the first pod of a namespace only, then re-read in the background when older
 * than {@link #TTL} (issue 13: each API round trip inside the webhook call adds to every pod
 * start). A label changed meanwhile only delays a better error message: PodSecurity admission runs
 * after the webhook and enforces the current label anyway.
 */
final class NamespaceLabels {
  private static final Logger LOG = LoggerFactory.getLogger(NamespaceLabels.class);
  static final Duration TTL = Duration.ofSeconds(30);

  private record Read(Map<String, String> labels, Instant at) {}

  private final KubernetesClient client;
  private final Clock clock;
  private final ConcurrentHashMap<String, Read> reads = new ConcurrentHashMap<>();
  private final Set<String> refreshing = ConcurrentHashMap.newKeySet();

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
    if (last == null) {
      return read(namespace, now); // the first pod of a namespace waits for one GET
    }
    if (!now.isBefore(last.at().plus(TTL)) && refreshing.add(namespace)) {
      // Stale: answer with what is known and re-read off the webhook call (issue 13).
      Thread.ofVirtual()
          .name("capgate-namespace-labels")
          .start(
              () -> {
                try {
                  read(namespace, clock.instant());
                } catch (RuntimeException e) {
                  LOG.debug("re-reading namespace {} failed: {}", namespace, e.getMessage());
                } finally {
                  refreshing.remove(namespace);
                }
              });
    }
    return last.labels();
  }

  private Map<String, String> read(String namespace, Instant now) {
    Namespace found = client.namespaces().withName(namespace).get();
    Map<String, String> labels =
        found == null || found.getMetadata().getLabels() == null
            ? Map.of()
            : Map.copyOf(found.getMetadata().getLabels());
    reads.put(namespace, new Read(labels, now));
    return labels;
  }
}
