package dev.capgate.operator.events;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes Events for the transitions users look for ({@code kubectl describe agentsession}).
 * Recorded in the background: an event that cannot be written never fails or slows a decision.
 * Messages carry names and fingerprints, never key material or credential values.
 */
public final class KubernetesEvents implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesEvents.class);
  static final String COMPONENT = "capgate-operator";

  private final KubernetesClient client;
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
  private final String instance;

  /**
   * @param instance this replica (the events' reportingInstance)
   */
  public KubernetesEvents(KubernetesClient client, String instance) {
    this.client = client;
    this.instance = instance == null || instance.isBlank() ? COMPONENT : instance;
  }

  public void normal(HasMetadata about, String reason, String message) {
    record(about, "Normal", reason, message);
  }

  public void warning(HasMetadata about, String reason, String message) {
    record(about, "Warning", reason, message);
  }

  private void record(HasMetadata about, String type, String reason, String message) {
    String now = Instant.now().toString();
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withNamespace(about.getMetadata().getNamespace())
            .withName(
                about.getMetadata().getName()
                    + "."
                    + UUID.randomUUID().toString().substring(0, 13).replace("-", ""))
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(about.getApiVersion())
                    .withKind(about.getKind())
                    .withNamespace(about.getMetadata().getNamespace())
                    .withName(about.getMetadata().getName())
                    .withUid(about.getMetadata().getUid())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(message.length() > 1024 ? message.substring(0, 1021) + "..." : message)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent("capgate.dev/operator")
            .withReportingInstance(instance)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .build();
    background.execute(
        () -> {
          try {
            client.v1().events().resource(event).create();
          } catch (RuntimeException e) {
            LOG.warn(
                "could not record event {} on {}/{}: {}",
                reason,
                about.getMetadata().getNamespace(),
                about.getMetadata().getName(),
                e.getMessage());
          }
        });
  }

  @Override
  public void close() {
    background.close();
  }
}
