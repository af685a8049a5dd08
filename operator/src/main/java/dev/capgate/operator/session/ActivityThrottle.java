package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSessionStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * At most one status write per session per {@link #INTERVAL} for activity alone. Every status write
 * reaches every sidecar of the session through its watch: with each of N busy pods reporting every
 * 5 s, writing each report would send N² updates per 5 s to the session's sidecars; this keeps it
 * at N. A status that changes for another reason is written at once, with the latest activity.
 */
final class ActivityThrottle {
  static final Duration INTERVAL = Duration.ofSeconds(5);

  /** By session uid: when its activity was last written. */
  private final Map<String, Instant> written = new ConcurrentHashMap<>();

  /**
   * @param status what the status would be written as
   * @param later when to reconcile again to write the activity held back
   */
  record Decision(AgentSessionStatus status, Optional<Instant> later) {}

  Decision apply(String uid, AgentSessionStatus previous, AgentSessionStatus next, Instant now) {
    if (previous == null) {
      written.put(uid, now);
      return new Decision(next, Optional.empty());
    }
    if (Objects.equals(previous.activity(), next.activity())) {
      return new Decision(next, Optional.empty());
    }
    boolean onlyActivity = Objects.equals(previous, next.withActivity(previous.activity()));
    Instant last = written.get(uid);
    if (onlyActivity && last != null && now.isBefore(last.plus(INTERVAL))) {
      return new Decision(next.withActivity(previous.activity()), Optional.of(last.plus(INTERVAL)));
    }
    written.put(uid, now);
    return new Decision(next, Optional.empty());
  }

  void forget(String uid) {
    written.remove(uid);
  }
}
