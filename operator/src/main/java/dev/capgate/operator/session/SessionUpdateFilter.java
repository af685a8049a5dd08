package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import java.util.Objects;

/**
 * Which updates of a session are worth a reconcile: what JOSDK's generation-aware processing lets
 * through (a new generation, deletion, finalizers) and a change of the {@code capgate.dev/recover}
 * annotation, which does not bump the generation. Status updates (the operator's own) are not.
 */
public final class SessionUpdateFilter implements OnUpdateFilter<AgentSession> {
  @Override
  public boolean accept(AgentSession updated, AgentSession old) {
    return !Objects.equals(updated.getMetadata().getGeneration(), old.getMetadata().getGeneration())
        || updated.isMarkedForDeletion()
        || !Objects.equals(updated.getMetadata().getFinalizers(), old.getMetadata().getFinalizers())
        || !Objects.equals(SessionRecovery.asked(updated), SessionRecovery.asked(old));
  }
}
