package dev.capgate.operator.injection;

import dev.capgate.api.v1alpha1.AgentSession;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The AgentSessions as the webhook last saw them, so that an admission reads its session without a
 * round trip to the API server (issue 13). Every replica serves the webhook, and JOSDK's
 * AgentSession informer belongs to the reconciler (reachable only from a reconcile's Context), so
 * the webhook keeps one of its own: a few KiB per session, without managedFields.
 *
 * <p>A session not found here (created a moment before its pod, or the informer not synced yet) is
 * read from the API server by {@link SessionResolver}. One found here may lag the API server by the
 * watch's delay (milliseconds): a pod admitted in that window for a session just revoked gets a
 * sidecar that cannot get a Vault token, because the identity listener reads its session from the
 * API server, never from this cache.
 */
public final class SessionCache implements AutoCloseable {
  private final List<SharedIndexInformer<AgentSession>> informers;

  private SessionCache(List<SharedIndexInformer<AgentSession>> informers) {
    this.informers = informers;
  }

  /**
   * Starts informing (without waiting for the first list: until then every lookup misses).
   *
   * @param namespaces the namespaces to watch; empty for all
   */
  public static SessionCache start(KubernetesClient client, Collection<String> namespaces) {
    List<SharedIndexInformer<AgentSession>> informers = new ArrayList<>();
    var sessions = client.resources(AgentSession.class);
    if (namespaces.isEmpty()) {
      informers.add(sessions.inAnyNamespace().runnableInformer(0));
    } else {
      for (String namespace : namespaces) {
        informers.add(sessions.inNamespace(namespace).runnableInformer(0));
      }
    }
    for (SharedIndexInformer<AgentSession> informer : informers) {
      informer.itemStore(new TransformingItemStore<>(SessionCache::withoutManagedFields));
      informer.start();
    }
    return new SessionCache(List.copyOf(informers));
  }

  /** The cached session, or null when this cache does not (yet) know it. */
  public AgentSession get(String namespace, String name) {
    String key = Cache.namespaceKeyFunc(namespace, name);
    for (SharedIndexInformer<AgentSession> informer : informers) {
      AgentSession session = informer.getStore().getByKey(key);
      if (session != null) {
        return session;
      }
    }
    return null;
  }

  private static AgentSession withoutManagedFields(AgentSession session) {
    session.getMetadata().setManagedFields(null);
    return session;
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
