package dev.capgate.sidecar.session;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Watches the one AgentSession of this pod and feeds the {@link SessionGate}.
 *
 * <ul>
 *   <li>An informer on that single object: list and watch with {@code
 *       fieldSelector=metadata.name=<name>}, which a Role with {@code resourceNames: [<name>]} and
 *       verbs get/list/watch allows, and nothing wider. Changes arrive within milliseconds. The
 *       object is read as a generic resource and checked by {@link SessionReader}, so a spec field
 *       this sidecar does not know denies instead of being dropped.
 *   <li>A heartbeat GET every third of the grace period (0.5 s to 10 s): a watch can hang without a
 *       word on a half-open connection, so contact is proven by answers, not by silence. It also
 *       re-reads the session after an outage and while the watch is down.
 * </ul>
 */
final class SessionWatcher implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(SessionWatcher.class.getName());

  private final Resource<GenericKubernetesResource> session;
  private final SessionReader reader;
  private final SessionGate gate;
  private final Duration heartbeatEvery;
  private final ScheduledExecutorService heartbeats =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("capgate-session-heartbeat").factory());
  private final AtomicBoolean heartbeatInFlight = new AtomicBoolean();
  private SharedIndexInformer<GenericKubernetesResource> informer;

  SessionWatcher(
      KubernetesClient client, String namespace, String name, SessionGate gate, Duration grace) {
    this.session =
        client
            .genericKubernetesResources(SessionReader.AGENT_SESSIONS)
            .inNamespace(namespace)
            .withName(name);
    this.reader = new SessionReader();
    this.gate = gate;
    long third = grace.toMillis() / 3;
    this.heartbeatEvery = Duration.ofMillis(Math.clamp(third, 500, 10_000));
  }

  /** Starts watching; returns at once (the first list may still be under way or failing). */
  void start() {
    informer = session.runnableInformer(0);
    informer.addEventHandler(
        new ResourceEventHandler<GenericKubernetesResource>() {
          @Override
          public void onAdd(GenericKubernetesResource s) {
            gate.observed(reader.read(s));
          }

          @Override
          public void onUpdate(GenericKubernetesResource before, GenericKubernetesResource after) {
            gate.observed(reader.read(after));
          }

          @Override
          public void onDelete(GenericKubernetesResource s, boolean finalStateUnknown) {
            gate.gone();
          }

          @Override
          public void onNothing() {
            gate.gone(); // the initial list found no such session
          }
        });
    // Keep trying whatever happens (API server down at start, RBAC not bound yet): the gate denies
    // meanwhile, and giving up would leave the pod denied for good.
    informer.exceptionHandler(
        (started, error) -> {
          LOG.fine("watch of the AgentSession failed, retrying: " + error);
          return true;
        });
    informer
        .start()
        .whenComplete(
            (ok, error) -> {
              if (error != null) {
                LOG.warning("cannot watch the AgentSession: " + error.getMessage());
              }
            });
    heartbeats.scheduleWithFixedDelay(
        this::heartbeat, 0, heartbeatEvery.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void heartbeat() {
    if (!heartbeatInFlight.compareAndSet(false, true)) {
      return;
    }
    // On a thread of its own: a GET that hangs must not stop the schedule (the gate's outage check
    // does not wait for it either).
    Thread.ofVirtual()
        .name("capgate-session-get")
        .start(
            () -> {
              try {
                GenericKubernetesResource current = session.get();
                gate.heartbeat(
                    current == null ? null : reader.read(current), informer.isWatching());
              } catch (KubernetesClientException e) {
                gate.apiError(
                    e.getCode() == 0
                        ? String.valueOf(e.getCause() == null ? e.getMessage() : e.getCause())
                        : "HTTP " + e.getCode());
              } catch (RuntimeException e) {
                gate.apiError(e.getClass().getSimpleName());
              } finally {
                heartbeatInFlight.set(false);
              }
            });
  }

  @Override
  public void close() {
    heartbeats.shutdownNow();
    if (informer != null) {
      informer.stop();
    }
  }
}
