package dev.capgate.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.operator.ca.NamespaceTrustRoots;
import dev.capgate.operator.ca.SharedTrustRoots;
import dev.capgate.operator.ca.TrustBundle;
import dev.capgate.testkit.KubeControlPlane;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The namespace's shared roots ConfigMap (issue 13): written inside the first pod's webhook call,
 * then rechecked every five minutes in the background, never again inside a call. Real API server;
 * only the clock is the test's, to reach the recheck without waiting five minutes.
 */
class NamespaceTrustRootsIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  static KubernetesClient client;
  static SharedTrustRoots roots;

  @BeforeAll
  static void start() {
    client = KubeControlPlane.shared().client();
    roots = new SharedTrustRoots(TrustBundle.systemRoots(null));
  }

  @Test
  void aDeletedRootsConfigMapIsWrittenAgainByTheBackgroundRecheck() {
    String ns = KubeControlPlane.shared().newNamespace("trust-roots");
    TestClock clock = new TestClock();
    NamespaceTrustRoots trustRoots = new NamespaceTrustRoots(client, roots, clock);

    assertThat(trustRoots.ensure(ns)).isEmpty();
    assertThat(stored(ns)).as("written inside the first call").isNotNull();
    delete(ns);

    // Within five minutes nothing is looked at; after them the call still answers at once and the
    // recheck writes the ConfigMap again behind it.
    assertThat(trustRoots.ensure(ns)).isEmpty();
    assertThat(stored(ns)).isNull();
    clock.advance(Duration.ofMinutes(6));
    assertThat(trustRoots.ensure(ns)).isEmpty();
    await("written again in the background").atMost(WAIT).until(() -> stored(ns) != null);
    assertThat(roots.matches(stored(ns))).isTrue();
  }

  @Test
  void aChangedRootsConfigMapFoundByTheRecheckRefusesTheNextPods() {
    String ns = KubeControlPlane.shared().newNamespace("trust-roots");
    TestClock clock = new TestClock();
    NamespaceTrustRoots trustRoots = new NamespaceTrustRoots(client, roots, clock);
    assertThat(trustRoots.ensure(ns)).isEmpty();
    delete(ns);
    client
        .configMaps()
        .resource(
            new ConfigMapBuilder(roots.configMap(ns))
                .withData(Map.of("roots.pem", "someone else's"))
                .build())
        .create();

    clock.advance(Duration.ofMinutes(6));
    assertThat(trustRoots.ensure(ns)).as("the recheck runs behind this call").isEmpty();
    await("the recheck found the foreign ConfigMap: the next pod is refused with the reason")
        .atMost(WAIT)
        .until(() -> trustRoots.ensure(ns).isPresent());
    assertThat(trustRoots.ensure(ns).orElseThrow()).contains("does not hold the system roots");
  }

  private static ConfigMap stored(String ns) {
    return client.configMaps().inNamespace(ns).withName(roots.name()).get();
  }

  private static void delete(String ns) {
    client.configMaps().inNamespace(ns).withName(roots.name()).delete();
    await("deleted").atMost(WAIT).until(() -> stored(ns) == null);
  }

  /** A clock the test moves forward. */
  private static final class TestClock extends Clock {
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());

    void advance(Duration d) {
      now.updateAndGet(t -> t.plus(d));
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
