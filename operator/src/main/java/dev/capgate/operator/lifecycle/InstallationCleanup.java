package dev.capgate.operator.lifecycle;

import dev.capgate.operator.ca.PodCaObjects;
import dev.capgate.operator.ca.SharedTrustRoots;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chart's post-delete hook: removes what the operator created itself and Helm therefore does
 * not know — the session-signing key and the webhook's serving certificate (Secrets in the release
 * namespace), the leader-election Lease, the webhook configuration when the operator applied it
 * ({@code webhook.manageConfiguration}), and the per-namespace trust-roots ConfigMaps no pod mounts
 * any more. It first waits for the operator's pods to be gone: a terminating operator still
 * releases its Lease, and one that restarted would write a new key.
 *
 * <p>Only objects labelled {@code app.kubernetes.io/managed-by: capgate} are deleted: a webhook
 * certificate Secret the user provided (cert-manager) is theirs. Trust-roots ConfigMaps are shared
 * by name between installations with the same roots and are still needed by agent pods that outlive
 * the uninstall (they mount them), so one is deleted only when no pod in its namespace mounts it.
 */
public final class InstallationCleanup {
  private static final Logger LOG = LoggerFactory.getLogger(InstallationCleanup.class);
  private static final Duration POLL = Duration.ofMillis(500);

  private final KubernetesClient client;
  private final UninstallSettings settings;

  public InstallationCleanup(KubernetesClient client, UninstallSettings settings) {
    this.client = client;
    this.settings = settings;
  }

  /** Returns 0 when done, 1 when the operator's pods did not go within the timeout. */
  public int run() {
    if (!awaitOperatorGone()) {
      LOG.error(
          "uninstall: operator pods ({}) still present after {}; nothing removed",
          settings.operatorSelector(),
          settings.timeout());
      return 1;
    }
    String ns = settings.releaseNamespace();
    List<String> removed = new ArrayList<>();
    for (String name : List.of(settings.signerSecret(), settings.webhookCertSecret())) {
      deleteIfCapgates(
          client.secrets().inNamespace(ns).withName(name), "Secret " + ns + "/" + name, removed);
    }
    if (!settings.leaderLease().isBlank()) {
      // The Lease carries no capgate label (JOSDK writes it): its name is the release's own.
      var lease = client.leases().inNamespace(ns).withName(settings.leaderLease());
      if (lease.get() != null) {
        lease.delete();
        removed.add("Lease " + ns + "/" + settings.leaderLease());
      }
    }
    if (!settings.webhookConfiguration().isBlank()) {
      var webhook =
          client
              .admissionRegistration()
              .v1()
              .mutatingWebhookConfigurations()
              .withName(settings.webhookConfiguration());
      var stored = webhook.get();
      // The chart's own (managed-by Helm) is gone with the release; one still there is the
      // operator's.
      if (stored != null && !"Helm".equals(label(stored, PodCaObjects.MANAGED_BY_LABEL))) {
        webhook.delete();
        removed.add("MutatingWebhookConfiguration " + settings.webhookConfiguration());
      }
    }
    int kept = 0;
    for (ConfigMap cm : trustRoots()) {
      String cmNs = cm.getMetadata().getNamespace();
      String name = cm.getMetadata().getName();
      if (mountedIn(cmNs).contains(name)) {
        kept++;
        LOG.info("uninstall: keeping ConfigMap {}/{}: agent pods there still mount it", cmNs, name);
        continue;
      }
      client.configMaps().inNamespace(cmNs).withName(name).delete();
      removed.add("ConfigMap " + cmNs + "/" + name);
    }
    LOG.info(
        "uninstall: removed {} object(s) the operator had created: {}; {} trust-roots ConfigMap(s)"
            + " kept for pods that still mount them",
        removed.size(),
        removed,
        kept);
    return 0;
  }

  private boolean awaitOperatorGone() {
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    while (true) {
      List<Pod> pods =
          client
              .pods()
              .inNamespace(settings.releaseNamespace())
              .withLabelSelector(settings.operatorSelector())
              .list()
              .getItems();
      if (pods.isEmpty()) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      SessionDrain.sleep(POLL);
    }
  }

  private List<ConfigMap> trustRoots() {
    Map<String, String> labels =
        Map.of(
            PodCaObjects.COMPONENT_LABEL,
            SharedTrustRoots.COMPONENT,
            PodCaObjects.MANAGED_BY_LABEL,
            PodCaObjects.MANAGED_BY);
    if (settings.watchNamespaces().isEmpty()) {
      return client.configMaps().inAnyNamespace().withLabels(labels).list().getItems();
    }
    List<ConfigMap> all = new ArrayList<>();
    for (String ns : settings.watchNamespaces()) {
      all.addAll(client.configMaps().inNamespace(ns).withLabels(labels).list().getItems());
    }
    return all;
  }

  /** Names of the ConfigMaps the pods of {@code namespace} mount. */
  private Set<String> mountedIn(String namespace) {
    Set<String> names = new HashSet<>();
    for (Pod pod : client.pods().inNamespace(namespace).list().getItems()) {
      List<Volume> volumes = pod.getSpec() == null ? null : pod.getSpec().getVolumes();
      if (volumes == null) {
        continue;
      }
      for (Volume v : volumes) {
        if (v.getConfigMap() != null) {
          names.add(v.getConfigMap().getName());
        }
        if (v.getProjected() != null && v.getProjected().getSources() != null) {
          v.getProjected().getSources().stream()
              .filter(s -> s.getConfigMap() != null)
              .forEach(s -> names.add(s.getConfigMap().getName()));
        }
      }
    }
    return names;
  }

  private static <T extends HasMetadata> void deleteIfCapgates(
      Resource<T> resource, String what, List<String> removed) {
    T stored = resource.get();
    if (stored == null) {
      return;
    }
    if (!PodCaObjects.MANAGED_BY.equals(label(stored, PodCaObjects.MANAGED_BY_LABEL))) {
      LOG.info("uninstall: keeping {}: not created by the operator (no managed-by: capgate)", what);
      return;
    }
    resource.delete();
    removed.add(what);
  }

  private static String label(HasMetadata o, String key) {
    Map<String, String> labels = o.getMetadata().getLabels();
    return labels == null ? null : labels.get(key);
  }
}
