package dev.capgate.operator.injection;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.events.KubernetesEvents;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a pod's CA Secret after the webhook has answered (issue 13: the POST and the API server's
 * etcd write were most of the webhook's added latency), retrying until it is stored.
 *
 * <p><b>Why a late Secret is safe.</b> The kubelet does not start a pod whose Secret volume is
 * missing; it retries the mount, so the pod waits in {@code ContainerCreating} until the Secret is
 * there. Custody is unchanged: the reconciler hands a CA Secret to its pod on whichever of the two
 * informer events comes second. If someone (attacker B, who may create Secrets in the namespace)
 * creates a Secret under the CA's name first, the operator's create fails with 409 and B's Secret
 * is what the kubelet mounts; but the pod's {@code capgate-init}, the first init container, checks
 * {@code root.crt} against {@code CAPGATE_POD_CA_FINGERPRINT} from its own environment, which only
 * the webhook sets, and exits non-zero: neither the sidecar nor an agent container ever starts on
 * B's CA (fail closed), and a {@code CaSquatted} warning event on the session names the Secret.
 *
 * <p>Until a write lands, {@link #pending} has the Secret, so a re-invocation of the webhook on the
 * same replica checks the pod against it; another replica reads the API server and waits for it.
 */
public final class PodCaWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PodCaWriter.class);
  static final Duration FIRST_RETRY = Duration.ofMillis(100);
  static final Duration MAX_RETRY = Duration.ofSeconds(5);

  /** How long to keep trying: beyond this the orphan sweep would delete the Secret anyway. */
  static final Duration GIVE_UP = Duration.ofMinutes(5);

  private final KubernetesClient client;
  private final KubernetesEvents events;
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
  private final Map<String, CompletableFuture<Secret>> pending = new ConcurrentHashMap<>();

  public PodCaWriter(KubernetesClient client, KubernetesEvents events) {
    this.client = client;
    this.events = events;
  }

  /**
   * Stores {@code secret} in the background and then records {@code mintedEvent} on the session.
   */
  public void write(Secret secret, AgentSession session, String mintedEvent) {
    accept(
            secret.getMetadata().getNamespace(),
            secret.getMetadata().getName(),
            () -> secret,
            session,
            mintedEvent)
        .run();
  }

  /**
   * Makes the Secret {@code namespace/name} {@link #pending} now and returns what starts its write
   * ({@link #write}'s background work, which first makes it with {@code secret}): the webhook
   * starts it once its answer is sent, so that the signing CA's signature, the Secret's
   * serialization, TLS and POST neither share the CPU with the admission call nor reach the API
   * server while it still waits for the answer (issue 13). The returned task only hands off; it
   * must be run exactly once, else the Secret stays pending and is never stored.
   */
  public Runnable accept(
      String namespace,
      String name,
      Supplier<Secret> secret,
      AgentSession session,
      String mintedEvent) {
    String key = key(namespace, name);
    CompletableFuture<Secret> made = new CompletableFuture<>();
    pending.put(key, made);
    return () -> {
      try {
        background.execute(
            () -> {
              try {
                Secret stored;
                try {
                  stored = secret.get();
                  made.complete(stored);
                } catch (RuntimeException e) {
                  made.completeExceptionally(e);
                  LOG.error("could not make CA Secret {}", key, e);
                  notStored(session, name, "could not make it");
                  return;
                }
                if (store(stored, session)) {
                  events.normal(session, "CaMinted", mintedEvent);
                }
              } finally {
                pending.remove(key);
              }
            });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // Stopping: close() has stopped taking writes. Said, so that a missing Secret is explained.
        made.completeExceptionally(e);
        pending.remove(key);
        LOG.error("stopping: CA Secret {} not stored", key);
      }
    };
  }

  /** How long {@link #pending} waits for a Secret to be made (it takes milliseconds). */
  static final Duration MAKE_WAIT = Duration.ofSeconds(3);

  /**
   * A Secret this writer has not stored yet (waiting up to {@link #MAKE_WAIT} for it to be made),
   * or null.
   */
  public Secret pending(String namespace, String name) {
    CompletableFuture<Secret> made = pending.get(key(namespace, name));
    if (made == null) {
      return null;
    }
    try {
      return made.get(MAKE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException
        | java.util.concurrent.TimeoutException
        | java.util.concurrent.CancellationException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Secrets accepted and not stored yet. */
  public int backlog() {
    return pending.size();
  }

  /**
   * @return true once stored (or found stored by an earlier attempt), false if squatted or given up
   */
  private boolean store(Secret secret, AgentSession session) {
    String namespace = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    long deadline = System.nanoTime() + GIVE_UP.toNanos();
    Duration wait = FIRST_RETRY;
    while (true) {
      try {
        client.secrets().resource(secret).create();
        return true;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 409) {
          return alreadyThere(secret, session);
        }
        if (e.getCode() == 403 || e.getCode() == 422 || System.nanoTime() > deadline) {
          // Not going to change by retrying: the pod waits for a Secret that will not come.
          LOG.error("could not store CA Secret {}/{}: {}", namespace, name, e.getMessage());
          notStored(session, name, Integer.toString(e.getCode()));
          return false;
        }
        LOG.warn(
            "storing CA Secret {}/{} failed ({}), again in {} ms",
            namespace,
            name,
            e.getMessage(),
            wait.toMillis());
      }
      try {
        Thread.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        LOG.error("stopped before storing CA Secret {}/{}", namespace, name);
        return false;
      }
      wait = wait.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : wait.multipliedBy(2);
    }
  }

  private void notStored(AgentSession session, String name, String why) {
    events.warning(
        session,
        "CaNotStored",
        "could not store pod CA Secret "
            + name
            + " ("
            + why
            + "): its pod waits for it in ContainerCreating; delete the pod to get a new CA");
  }

  /** A 409: an earlier attempt of ours whose answer was lost, or someone else's Secret. */
  private boolean alreadyThere(Secret ours, AgentSession session) {
    String namespace = ours.getMetadata().getNamespace();
    String name = ours.getMetadata().getName();
    Secret stored = client.secrets().inNamespace(namespace).withName(name).get();
    if (stored != null && Objects.equals(stored.getData(), ours.getData())) {
      return true;
    }
    LOG.warn(
        "CA Secret name {}/{} was taken by someone else before capgate wrote it", namespace, name);
    events.warning(
        session,
        "CaSquatted",
        "a Secret named "
            + name
            + " that capgate did not write took the pod CA's name before capgate stored it: the"
            + " pod's capgate-init refuses it (fingerprint mismatch), so the pod never starts;"
            + " delete that Secret and the pod");
    return false;
  }

  private static String key(String namespace, String name) {
    return namespace + "/" + name;
  }

  /** Waits (a bounded time) for the writes accepted so far, so a stopping replica loses none. */
  @Override
  public void close() {
    background.shutdown();
    try {
      if (!background.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.error("{} CA Secrets not stored at shutdown", pending.size());
        background.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
