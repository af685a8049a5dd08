package dev.capgate.operator.webhook;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Labels the namespaces this installation serves ({@code watchNamespaces}) {@code
 * capgate.dev/served-by=<its webhook configuration>}, so that no installation's {@link
 * UnservedNamespacePolicy} refuses pods there. A namespace another installation already labelled is
 * never taken over: two webhooks would inject its pods twice, so the start fails, naming both.
 *
 * <p>A listed namespace that does not exist yet is labelled once it does (checked every {@link
 * #RETRY}); until then an opted-in pod there is refused, never admitted bare. The chart lets the
 * operator patch exactly the listed namespaces (resourceNames), nothing else.
 */
public final class ServedNamespaces implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServedNamespaces.class);
  static final long RETRY_SECONDS = 30;

  private final KubernetesClient client;
  private final String installation;
  private final Set<String> pending;
  private final ScheduledExecutorService retry;

  private ServedNamespaces(KubernetesClient client, String installation, List<String> namespaces) {
    this.client = client;
    this.installation = installation;
    this.pending = new LinkedHashSet<>(namespaces);
    this.retry =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("capgate-served-namespaces").unstarted(r));
  }

  /**
   * Labels what exists now (throwing if another installation serves one of them) and keeps trying
   * the rest. Nothing to do for an installation serving every namespace (empty list).
   */
  public static ServedNamespaces start(
      KubernetesClient client, String installation, List<String> namespaces) {
    if (!namespaces.isEmpty()
        && !installation.matches("([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]")) {
      throw new IllegalArgumentException(
          "the webhook configuration name "
              + installation
              + " is the value of the label "
              + UnservedNamespacePolicy.SERVED_BY
              + " on the namespaces it serves: at most 63 characters, alphanumerics, '-', '_', '.'");
    }
    ServedNamespaces served = new ServedNamespaces(client, installation, namespaces);
    served.labelPending(true);
    if (!served.pending.isEmpty()) {
      served.retry.scheduleWithFixedDelay(
          () -> served.labelPending(false), RETRY_SECONDS, RETRY_SECONDS, TimeUnit.SECONDS);
    }
    return served;
  }

  /** Namespaces listed but not labelled yet (they do not exist). */
  public synchronized List<String> pending() {
    return new ArrayList<>(pending);
  }

  private synchronized void labelPending(boolean failOnConflict) {
    for (String name : new ArrayList<>(pending)) {
      try {
        if (label(name)) {
          pending.remove(name);
        }
      } catch (IllegalStateException conflict) {
        if (failOnConflict) {
          throw conflict;
        }
        LOG.error("{}", conflict.getMessage());
      } catch (RuntimeException e) {
        LOG.warn("could not label namespace {} as served: {}", name, e.toString());
      }
    }
    if (pending.isEmpty()) {
      retry.shutdown();
    }
  }

  /** True once labelled (or already ours); false if the namespace does not exist yet. */
  private boolean label(String name) {
    Namespace namespace = client.namespaces().withName(name).get();
    if (namespace == null) {
      LOG.warn(
          "watched namespace {} does not exist: opted-in pods there are refused until it does"
              + " and this operator labels it (checked every {}s)",
          name,
          RETRY_SECONDS);
      return false;
    }
    String current =
        namespace.getMetadata().getLabels() == null
            ? null
            : namespace.getMetadata().getLabels().get(UnservedNamespacePolicy.SERVED_BY);
    if (installation.equals(current)) {
      return true;
    }
    if (current != null) {
      throw new IllegalStateException(
          "namespace "
              + name
              + " is served by the capgate installation "
              + current
              + " (label "
              + UnservedNamespacePolicy.SERVED_BY
              + "), not by "
              + installation
              + ": a namespace may be in one installation's watchNamespaces only");
    }
    client
        .namespaces()
        .withName(name)
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            // The resourceVersion makes it conditional: two installations racing for one
            // namespace cannot both think they won.
            "{\"metadata\":{\"resourceVersion\":\""
                + namespace.getMetadata().getResourceVersion()
                + "\",\"labels\":{\""
                + UnservedNamespacePolicy.SERVED_BY
                + "\":\""
                + installation
                + "\"}}}");
    LOG.info("namespace {} labelled {}={}", name, UnservedNamespacePolicy.SERVED_BY, installation);
    return true;
  }

  @Override
  public void close() {
    retry.shutdownNow();
  }
}
