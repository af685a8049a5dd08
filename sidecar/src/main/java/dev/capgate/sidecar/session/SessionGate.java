package dev.capgate.sidecar.session;

import dev.capgate.sidecar.policy.PolicySource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Turns what is known about the AgentSession into the policy in force. Everything runs on one
 * thread, in arrival order, so a late event can never undo a revocation: a watch event, a
 * heartbeat's answer, the expiry timer and the outage check all pass through here.
 *
 * <ul>
 *   <li>An enforceable state installs its policy; the next request uses it.
 *   <li>A denying state revokes (the data plane closes open connections).
 *   <li>A terminal state (deleted, expired, phase Revoked/Expired, re-created) revokes for good and
 *       runs {@code onEnded} once, off this thread: it revokes Vault leases and the token.
 *   <li>No word from the API server for longer than the grace period revokes with the reason "api
 *       server unreachable for …"; the first answer after that re-decides from what it says.
 * </ul>
 */
final class SessionGate implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(SessionGate.class.getName());
  private static final Duration OUTAGE_CHECK = Duration.ofMillis(200);

  private final String where;
  private final PolicySource policies;
  private final Duration grace;
  private final Clock clock;
  private final Consumer<String> onEnded;
  private final ScheduledExecutorService actor =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("capgate-session").factory());

  // Confined to the actor thread.
  private String boundUid;
  private boolean ended;
  private boolean outage;
  private boolean enforcing;
  private long enforcedGeneration = -1;
  private Instant lastContact;
  private String lastApiError = "no answer yet";
  private ScheduledFuture<?> expiryTimer;
  private Instant expiryTimerAt;

  SessionGate(
      String namespace,
      String name,
      PolicySource policies,
      Duration grace,
      Clock clock,
      Consumer<String> onEnded) {
    this.where = namespace + "/" + name;
    this.policies = Objects.requireNonNull(policies, "policies");
    this.grace = Objects.requireNonNull(grace, "grace");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.onEnded = Objects.requireNonNull(onEnded, "onEnded");
    this.lastContact = clock.instant(); // the start-up gets the same grace as an outage
    actor.scheduleWithFixedDelay(
        this::checkOutage, OUTAGE_CHECK.toMillis(), OUTAGE_CHECK.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A watch event: the session as it is now. Also proof that the API server answers. */
  void observed(SessionReader.Read session) {
    onActor(
        () -> {
          contact();
          decide(session);
        });
  }

  /** The watch says the session is gone (or a heartbeat got 404). */
  void gone() {
    onActor(
        () -> {
          contact();
          decideGone();
        });
  }

  /**
   * A heartbeat's answer. It decides only when the watch cannot be trusted to have delivered
   * everything (during or after an outage, or while the watch is down); otherwise it only proves
   * contact, since an older read must not overtake a newer watch event.
   *
   * @param session null when the API server answered 404
   */
  void heartbeat(SessionReader.Read session, boolean watchHealthy) {
    onActor(
        () -> {
          boolean afterOutage = outage;
          contact();
          if (afterOutage || !watchHealthy) {
            if (session == null) {
              decideGone();
            } else {
              decide(session);
            }
          }
        });
  }

  /** A heartbeat failed: remembered for the reason given when the grace period runs out. */
  void apiError(String error) {
    onActor(() -> lastApiError = error);
  }

  /** Runs {@code task} on the actor; after {@link #close()} late events are dropped. */
  private void onActor(Runnable task) {
    try {
      actor.execute(task);
    } catch (RejectedExecutionException e) {
      // closed: nothing to decide any more
    }
  }

  private void contact() {
    lastContact = clock.instant();
    if (outage) {
      outage = false;
      LOG.info("the API server answers again for session " + where);
    }
  }

  private void decideGone() {
    if (boundUid == null) {
      deny("the AgentSession " + where + " does not exist");
    } else {
      end("the AgentSession " + where + " was deleted");
    }
  }

  private void decide(SessionReader.Read read) {
    if (ended) {
      return;
    }
    ObservedSession session = read.session();
    if (boundUid == null && session.uid() != null) {
      boundUid = session.uid();
    }
    SessionDecision.Verdict verdict =
        SessionDecision.decide(session, read.specProblem(), boundUid, clock.instant());
    switch (verdict) {
      case SessionDecision.Enforce enforce -> enforce(enforce);
      case SessionDecision.Deny deny when deny.terminal() -> end(deny.reason());
      case SessionDecision.Deny deny -> deny(deny.reason());
    }
  }

  private void enforce(SessionDecision.Enforce enforce) {
    policies.install(enforce.policy());
    if (!enforcing || enforce.generation() != enforcedGeneration) {
      LOG.info(
          "policy of session "
              + where
              + " (generation "
              + enforce.generation()
              + ") in force"
              + (enforce.expiresAt() == null ? "" : " until " + enforce.expiresAt()));
    }
    enforcing = true;
    enforcedGeneration = enforce.generation();
    armExpiry(enforce.expiresAt());
  }

  private void deny(String reason) {
    if (enforcing || !reason.equals(policies.problem())) {
      LOG.warning("denying all traffic of session " + where + ": " + reason);
    }
    enforcing = false;
    policies.revoke(reason);
  }

  private void end(String reason) {
    if (ended) {
      return;
    }
    ended = true;
    deny(reason);
    cancelExpiry();
    Thread.ofVirtual()
        .name("capgate-session-end")
        .start(
            () -> {
              try {
                onEnded.accept(reason);
              } catch (RuntimeException e) {
                LOG.warning("cleaning up after the end of session " + where + " failed: " + e);
              }
            });
  }

  /**
   * The local timer: expiry holds even when the operator (or the API server) is not there to say
   * so.
   */
  private void armExpiry(Instant at) {
    if (Objects.equals(at, expiryTimerAt)) {
      return;
    }
    cancelExpiry();
    if (at == null) {
      return;
    }
    expiryTimerAt = at;
    long delay = Math.max(0, Duration.between(clock.instant(), at).toMillis());
    expiryTimer =
        actor.schedule(
            () -> {
              if (at.equals(expiryTimerAt)) {
                end("the AgentSession " + where + " expired at " + at + " (creation + spec.ttl)");
              }
            },
            delay,
            TimeUnit.MILLISECONDS);
  }

  private void cancelExpiry() {
    if (expiryTimer != null) {
      expiryTimer.cancel(false);
    }
    expiryTimer = null;
    expiryTimerAt = null;
  }

  private void checkOutage() {
    if (ended || outage) {
      return;
    }
    Duration silent = Duration.between(lastContact, clock.instant());
    if (silent.compareTo(grace) > 0) {
      outage = true;
      // The expiry timer keeps running: an outage never extends a session.
      deny(
          "api server unreachable for "
              + silent.toMillis() / 1000.0
              + " s (grace "
              + grace.toSeconds()
              + " s; last error: "
              + lastApiError
              + "): denying until it answers again");
    }
  }

  @Override
  public void close() {
    actor.shutdownNow();
  }
}
