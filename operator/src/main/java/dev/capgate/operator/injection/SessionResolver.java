package dev.capgate.operator.injection;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionValidator;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.api.v1alpha1.Violation;
import dev.capgate.operator.session.SessionExpiry;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Finds the session a pod names and says whether a pod may be bound to it now. Without a {@link
 * SessionCache} (the identity listener, which hands out Vault tokens) read straight from the API
 * server: a session deleted a moment ago must not be found. With one (the webhook) from the cache
 * first and from the API server on a miss, so a session created a moment before its pod is still
 * found (see {@link SessionCache} for why a cache hit is safe). Expiry and validity are computed
 * here rather than read from a status the reconciler may not have written yet.
 */
public final class SessionResolver {
  private final KubernetesClient client;
  private final Clock clock;
  private final SessionCache cache;

  /** Reads every session from the API server. */
  public SessionResolver(KubernetesClient client, Clock clock) {
    this(client, clock, null);
  }

  /**
   * @param cache looked in first; null to read every session from the API server
   */
  public SessionResolver(KubernetesClient client, Clock clock, SessionCache cache) {
    this.client = client;
    this.clock = clock;
    this.cache = cache;
  }

  public sealed interface Resolution permits Usable, Unusable {}

  /**
   * @param expiresAt null for a session without ttl
   */
  public record Usable(AgentSession session, Instant expiresAt) implements Resolution {}

  /**
   * @param session null when there is none
   */
  public record Unusable(AgentSession session, String reason) implements Resolution {}

  /** The session as stored (or cached), or null; callers must not modify it. */
  public AgentSession find(String namespace, String name) {
    AgentSession cached = cache == null ? null : cache.get(namespace, name);
    if (cached != null) {
      return cached;
    }
    return client.resources(AgentSession.class).inNamespace(namespace).withName(name).get();
  }

  public Resolution resolve(String namespace, String name) {
    AgentSession session = find(namespace, name);
    String quoted = "AgentSession \"" + name + "\"";
    if (session == null) {
      return new Unusable(null, quoted + " does not exist in namespace \"" + namespace + "\"");
    }
    if (session.getMetadata().getDeletionTimestamp() != null) {
      return new Unusable(session, quoted + " is revoked (being deleted)");
    }
    if (session.getStatus() != null && session.getStatus().phase() == Phase.Revoked) {
      return new Unusable(session, quoted + " is revoked");
    }
    Instant expiresAt = SessionExpiry.of(session).orElse(null);
    if (expiresAt != null && !expiresAt.isAfter(clock.instant())) {
      return new Unusable(session, quoted + " expired at " + expiresAt);
    }
    if (session.getStatus() != null && session.getStatus().phase() == Phase.Expired) {
      return new Unusable(session, quoted + " has expired");
    }
    List<Violation> violations = AgentSessionValidator.validate(session.getSpec());
    if (!violations.isEmpty()) {
      return new Unusable(
          session,
          quoted
              + " is invalid: "
              + violations.stream().map(Violation::toString).collect(Collectors.joining("; ")));
    }
    return new Usable(session, expiresAt);
  }
}
