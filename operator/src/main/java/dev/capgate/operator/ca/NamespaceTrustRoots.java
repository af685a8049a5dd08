package dev.capgate.operator.ca;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the {@link SharedTrustRoots} ConfigMap into a namespace before the webhook admits a pod that
 * mounts it. Looked up once per namespace and {@link #RECHECK} (the first pod of a namespace pays
 * one read and one write inside its webhook call; later ones nothing, a recheck runs in the
 * background), not per pod: whether it is still there and unchanged when the kubelet mounts it is
 * what the pod's capgate-init checks, and a missing one only holds the pod back until the next
 * admission in the namespace writes it again.
 */
public final class NamespaceTrustRoots {
  private static final Logger LOG = LoggerFactory.getLogger(NamespaceTrustRoots.class);
  static final Duration RECHECK = Duration.ofMinutes(5);

  private final KubernetesClient client;
  private final SharedTrustRoots roots;
  private final Clock clock;
  private final ConcurrentHashMap<String, Instant> checked = new ConcurrentHashMap<>();
  private final Set<String> rechecking = ConcurrentHashMap.newKeySet();

  public NamespaceTrustRoots(KubernetesClient client, SharedTrustRoots roots, Clock clock) {
    this.client = client;
    this.roots = roots;
    this.clock = clock;
  }

  public SharedTrustRoots roots() {
    return roots;
  }

  /**
   * @return empty when the namespace has the roots, else why pods there cannot get them (a
   *     ConfigMap of that name with other content, which the operator does not overwrite)
   */
  public Optional<String> ensure(String namespace) {
    Instant now = clock.instant();
    Instant last = checked.get(namespace);
    if (last == null) {
      return check(namespace, now); // the first pod of a namespace waits for it
    }
    if (!now.isBefore(last.plus(RECHECK)) && rechecking.add(namespace)) {
      // The recheck reads the whole roots ConfigMap (~450 KiB): off the webhook call (issue 13).
      // A pod admitted meanwhile is no worse off than one admitted just before a change: its
      // capgate-init checks what it mounts.
      Thread.ofVirtual()
          .name("capgate-trust-roots")
          .start(
              () -> {
                try {
                  check(namespace, clock.instant())
                      .ifPresent(problem -> LOG.warn("namespace {}: {}", namespace, problem));
                } catch (RuntimeException e) {
                  checked.remove(namespace); // the next pod there checks inside its call
                  LOG.debug("rechecking the trust roots of {} failed: {}", namespace, e.toString());
                } finally {
                  rechecking.remove(namespace);
                }
              });
    }
    return Optional.empty();
  }

  private Optional<String> check(String namespace, Instant now) {
    var resource = client.configMaps().inNamespace(namespace).withName(roots.name());
    ConfigMap stored = resource.get();
    if (stored == null) {
      try {
        client.configMaps().resource(roots.configMap(namespace)).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        stored = resource.get(); // another replica or admission was first: check what it wrote
      }
    }
    if (stored != null && !roots.matches(stored)) {
      checked.remove(namespace);
      return Optional.of(
          "the ConfigMap "
              + roots.name()
              + " in namespace "
              + namespace
              + " does not hold the system roots capgate writes there (someone else created or"
              + " changed it): delete it, and the operator writes it again at the next pod");
    }
    checked.put(namespace, now);
    return Optional.empty();
  }
}
