package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.Durations;
import java.time.Instant;
import java.util.Optional;

/** When a session expires: its creation plus {@code spec.ttl}; never without a ttl. */
public final class SessionExpiry {
  private SessionExpiry() {}

  /** Empty without a ttl (or with one that does not parse: validation reports that). */
  public static Optional<Instant> of(AgentSession session) {
    String ttl = session.getSpec() == null ? null : session.getSpec().ttl();
    String created = session.getMetadata().getCreationTimestamp();
    if (ttl == null || created == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(created).plus(Durations.parse(ttl)));
    } catch (IllegalArgumentException | java.time.format.DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
