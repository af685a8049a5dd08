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
 * Finds the session a pod names and says whether a pod may be bound to it now. Read straight from
 * the API server: a session created a moment ago must be found, one deleted a moment ago must not
 * be. Expiry and validity are computed here rather than read from a status the reconciler may not
 * have written yet.
 */
public final class SessionResolver {
  private final KubernetesClient client;
  private final Clock clock;

  public SessionResolver(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
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

  /** The session as stored, or null. */
  public AgentSession find(String namespace, String name) {
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
