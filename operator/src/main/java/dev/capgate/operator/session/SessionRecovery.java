package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.events.KubernetesEvents;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery after compromise: {@code capgate.dev/recover: <RFC 3339 timestamp>} on a session asks
 * the operator, once per value newer than {@code status.lastRecovery}, to
 *
 * <ol>
 *   <li>revoke every Vault token and lease in the session's ledgers (the very code path of
 *       deletion, {@link SessionRevocation#revokeLeases}, with its scope checks);
 *   <li>then restart the session's pods by deleting them ({@link SessionRevocation#deletePods}):
 *       their controllers create new ones, and the webhook mints each a new CA; a bare pod is gone
 *       for good.
 * </ol>
 *
 * Restart rather than deny: a denied pod keeps the CA key and any credential value it already holds
 * in memory, and keeps running with them; only a new pod starts from nothing, and the session (the
 * user's delegation) stays valid for its replacements. Vault first: if Vault cannot be reached
 * nothing is restarted, the condition says {@code RecoveryFailed} and it is retried, so the pods
 * are restarted once, after their tokens are gone (a terminating pod gets no new token: {@code
 * SidecarAttestation} refuses it).
 *
 * <p>The audit trail: an Event ({@code Recovered} or {@code RecoveryFailed}) and an operator log
 * line naming the annotation's value, the field manager that set it (from managedFields: the
 * client, e.g. {@code kubectl-annotate}; the user is in the API server's audit log), and what was
 * revoked and restarted.
 */
public final class SessionRecovery {
  private static final Logger LOG = LoggerFactory.getLogger(SessionRecovery.class);
  public static final String RECOVERED = AgentSession.RECOVERED_CONDITION;
  public static final String REASON_COMPLETED = AgentSession.RECOVERY_COMPLETED;
  public static final String REASON_FAILED = AgentSession.RECOVERY_FAILED;
  static final Duration RETRY = AgentSessionReconciler.REVOCATION_RETRY;

  private final KubernetesClient client;
  private final SessionRevocation revocation;
  private final KubernetesEvents events;
  private final Clock clock;

  /**
   * By session uid, the last recovery completed by this replica: a reconcile that runs before the
   * status shows it (a status write that conflicted and is retried with the whole reconcile, an
   * informer behind) must neither do it again nor write the older status back.
   */
  private final Map<String, Outcome> completed = new ConcurrentHashMap<>();

  public SessionRecovery(
      KubernetesClient client, SessionRevocation revocation, KubernetesEvents events, Clock clock) {
    this.client = client;
    this.revocation = revocation;
    this.events = events;
    this.clock = clock;
  }

  /**
   * What the status says about recovery after this reconcile.
   *
   * @param condition the Recovered condition, if there is one
   * @param lastRecovery the annotation value last acted on
   * @param retry when to try again (Vault was unavailable)
   */
  public record Outcome(Condition condition, String lastRecovery, Optional<Instant> retry) {}

  /** Acts on a recovery asked for and not yet done; otherwise returns the status as it was. */
  public Outcome reconcile(AgentSession session) {
    String asked = asked(session);
    String last = session.getStatus() == null ? null : session.getStatus().lastRecovery();
    Condition previous = previousCondition(session);
    Outcome remembered = completed.get(session.getMetadata().getUid());
    if (remembered != null && newer(remembered.lastRecovery(), last)) {
      // Done here, not yet in the cached status (the status write is pending, lost to a conflict
      // and retried, or the informer lags): what was done stands, and is not done again.
      last = remembered.lastRecovery();
      previous = remembered.condition();
    }
    Outcome unchanged = new Outcome(previous, last, Optional.empty());
    if (asked == null) {
      return unchanged;
    }
    Optional<Instant> askedAt = instant(asked);
    if (askedAt.isEmpty()) {
      String message =
          AgentSession.RECOVER_ANNOTATION
              + " is not an RFC 3339 timestamp ("
              + SessionRevocation.printable(asked)
              + "): nothing done; set it to the current time, e.g. "
              + clock.instant().truncatedTo(ChronoUnit.SECONDS);
      return failed(session, previous, last, message, Optional.empty());
    }
    Optional<Instant> lastAt = last == null ? Optional.empty() : instant(last);
    if (lastAt.isPresent() && !askedAt.get().isAfter(lastAt.get())) {
      return unchanged; // done already (or an older value set again): idempotent
    }
    String manager = manager(session).orElse("an unknown field manager");
    SessionRevocation.Revoked revoked;
    try {
      revoked = revocation.revokeLeases(session);
    } catch (dev.capgate.operator.session.VaultRevoker.VaultUnavailableException e) {
      String message =
          "recovery "
              + asked
              + " (set by "
              + manager
              + ") failed, no pod restarted yet: "
              + e.getMessage()
              + "; retrying in "
              + RETRY.toSeconds()
              + "s";
      return failed(session, previous, last, message, Optional.of(clock.instant().plus(RETRY)));
    }
    int pods = revocation.deletePods(session);
    String message =
        "recovery "
            + asked
            + " (set by "
            + manager
            + "): revoked "
            + revoked.leases()
            + " Vault lease(s) and "
            + revoked.accessors()
            + " token accessor(s), restarted "
            + pods
            + " pod(s) (deleted: their controllers recreate them with new CAs)"
            + (revoked.refused() > 0
                ? "; " + revoked.refused() + " ledger entries refused (see LedgerEntryRefused)"
                : "");
    events.normal(session, RECOVERED, message);
    LOG.info(
        "recovered session {}/{}: {}",
        session.getMetadata().getNamespace(),
        session.getMetadata().getName(),
        message);
    Outcome done =
        new Outcome(
            condition(previous, true, REASON_COMPLETED, message, session), asked, Optional.empty());
    completed.put(session.getMetadata().getUid(), done);
    return done;
  }

  /** The session is gone: nothing to remember for it. */
  public void forget(AgentSession session) {
    completed.remove(session.getMetadata().getUid());
  }

  /** Whether {@code a} is a later time than {@code b} (or {@code b} is none). */
  private static boolean newer(String a, String b) {
    Optional<Instant> x = a == null ? Optional.empty() : instant(a);
    Optional<Instant> y = b == null ? Optional.empty() : instant(b);
    return x.isPresent() && (y.isEmpty() || x.get().isAfter(y.get()));
  }

  private Outcome failed(
      AgentSession session,
      Condition previous,
      String last,
      String message,
      Optional<Instant> retry) {
    if (previous == null
        || !REASON_FAILED.equals(previous.getReason())
        || !Objects.equals(previous.getMessage(), message)) {
      events.warning(session, REASON_FAILED, message);
      LOG.warn(
          "recovery of session {}/{} failed: {}",
          session.getMetadata().getNamespace(),
          session.getMetadata().getName(),
          message);
    }
    return new Outcome(condition(previous, false, REASON_FAILED, message, session), last, retry);
  }

  private Condition condition(
      Condition previous, boolean ok, String reason, String message, AgentSession session) {
    String status = ok ? "True" : "False";
    String since =
        previous != null
                && status.equals(previous.getStatus())
                && reason.equals(previous.getReason())
                && Objects.equals(previous.getMessage(), message)
            ? previous.getLastTransitionTime()
            : clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    return new ConditionBuilder()
        .withType(RECOVERED)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message.length() > 1024 ? message.substring(0, 1021) + "..." : message)
        .withObservedGeneration(session.getMetadata().getGeneration())
        .withLastTransitionTime(since)
        .build();
  }

  static String asked(AgentSession session) {
    var annotations = session.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(AgentSession.RECOVER_ANNOTATION);
    return value == null || value.isBlank() ? null : value.strip();
  }

  static Condition previousCondition(AgentSession session) {
    if (session.getStatus() == null || session.getStatus().conditions() == null) {
      return null;
    }
    return session.getStatus().conditions().stream()
        .filter(c -> RECOVERED.equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  static Optional<Instant> instant(String value) {
    try {
      return Optional.of(Instant.parse(value));
    } catch (DateTimeParseException e) {
      try {
        return Optional.of(java.time.OffsetDateTime.parse(value).toInstant());
      } catch (DateTimeParseException e2) {
        return Optional.empty();
      }
    }
  }

  /**
   * Who set the annotation, as far as the API server says: the field manager of the latest
   * managedFields entry that owns it. Read fresh (the informer's copy may have none), and only on a
   * recovery, which is rare.
   */
  private Optional<String> manager(AgentSession cached) {
    try {
      AgentSession fresh =
          client
              .resources(AgentSession.class)
              .inNamespace(cached.getMetadata().getNamespace())
              .withName(cached.getMetadata().getName())
              .get();
      List<ManagedFieldsEntry> entries =
          fresh == null || fresh.getMetadata().getManagedFields() == null
              ? List.of()
              : fresh.getMetadata().getManagedFields();
      String field = "\"f:" + AgentSession.RECOVER_ANNOTATION + "\"";
      return entries.stream()
          .filter(e -> e.getFieldsV1() != null && e.getManager() != null)
          // The operator's server-side apply of the status lists the annotations it sent too.
          .filter(e -> e.getSubresource() == null || e.getSubresource().isEmpty())
          .filter(e -> Serialization.asJson(e.getFieldsV1()).contains(field))
          .max(Comparator.comparing(e -> e.getTime() == null ? "" : e.getTime()))
          .map(e -> SessionRevocation.printable(e.getManager()));
    } catch (RuntimeException e) {
      LOG.debug("could not read who set {}: {}", AgentSession.RECOVER_ANNOTATION, e.getMessage());
      return Optional.empty();
    }
  }
}
