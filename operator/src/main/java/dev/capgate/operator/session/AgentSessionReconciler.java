package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionStatus;
import dev.capgate.api.v1alpha1.OnRevoke;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.api.v1alpha1.SessionActivity;
import dev.capgate.operator.events.KubernetesEvents;
import dev.capgate.operator.naming.PodMarkers;
import dev.capgate.operator.naming.SessionNames;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The one reconciler of {@code AgentSession}: status (phase, conditions, expiry, bound pods), the
 * sidecars' RBAC and lease ledger (dependent resources), custody of the pods' CAs, expiry at
 * creation + ttl (a scheduled reconcile, no polling), revocation when the session is deleted,
 * recovery after compromise ({@link SessionRecovery}) and the sidecars' activity summed into the
 * status ({@link ActivitySummary}).
 */
@Workflow(
    dependents = {
      @Dependent(type = SidecarRoleDependentResource.class),
      @Dependent(type = SidecarRoleBindingDependentResource.class),
      @Dependent(type = LeaseLedgerDependentResource.class)
    })
// Not generation-aware: the capgate.dev/recover annotation changes no generation. The filter
// lets through what generation-aware processing would, and that annotation.
@ControllerConfiguration(
    name = "agentsession",
    finalizerName = AgentSessionReconciler.FINALIZER,
    generationAwareEventProcessing = false,
    informer = @Informer(onUpdateFilter = SessionUpdateFilter.class))
public class AgentSessionReconciler implements Reconciler<AgentSession>, Cleaner<AgentSession> {
  private static final Logger LOG = LoggerFactory.getLogger(AgentSessionReconciler.class);
  public static final String FINALIZER = "capgate.dev/revocation";
  static final String BOUND_PODS = "bound-pods";
  static final String CA_SECRETS = "pod-ca-secrets";

  /** How long to wait before trying Vault again when revocation failed. */
  static final Duration REVOCATION_RETRY = Duration.ofSeconds(10);

  private final Clock clock;
  private final PodCaCustody custody;
  private final SessionRevocation revocation;
  private final KubernetesEvents events;
  private final KubernetesClient client;
  private final SessionRecovery recovery;
  private final ActivityThrottle activityThrottle = new ActivityThrottle();

  public AgentSessionReconciler(
      KubernetesClient client,
      Clock clock,
      Duration orphanGrace,
      SessionRevocation revocation,
      KubernetesEvents events) {
    this.client = client;
    this.clock = clock;
    this.custody = new PodCaCustody(client, orphanGrace);
    this.revocation = revocation;
    this.events = events;
    this.recovery = new SessionRecovery(client, revocation, events, clock);
  }

  /**
   * Objects per page of the pod and CA Secret informers' list (at start and on a relist): the item
   * stores trim each object, but an unpaged list holds every whole pod at once first. With 2,200
   * injected pods the operator's live heap at start was 87 MiB of its 96 (issue 13).
   */
  static final long LIST_PAGE = 250;

  @Override
  public List<EventSource<?, AgentSession>> prepareEventSources(
      EventSourceContext<AgentSession> context) {
    SecondaryToPrimaryMapper<Pod> podToSession = bySessionLabel();
    var pods =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, AgentSession.class)
                .withName(BOUND_PODS)
                .withLabelSelector(PodMarkers.SESSION)
                .withSecondaryToPrimaryMapper(podToSession)
                // What custody, status and the sidecar RBAC read: a pod's metadata, service account
                // and phase (issue 13: the operator's live heap through thousands of admissions).
                .withItemStore(new TransformingItemStore<>(InformerCopies::pod))
                .withInformerListLimit(LIST_PAGE)
                .build(),
            context);
    SecondaryToPrimaryMapper<Secret> secretToSession = bySessionLabel();
    var caSecrets =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Secret.class, AgentSession.class)
                .withName(CA_SECRETS)
                .withLabelSelector(SessionLabels.POD_CA_SELECTOR)
                .withSecondaryToPrimaryMapper(secretToSession)
                // Metadata is all custody needs: CA keys never sit in the operator's cache.
                .withItemStore(new TransformingItemStore<>(InformerCopies::caSecret))
                .withInformerListLimit(LIST_PAGE)
                .build(),
            context);
    return List.of(pods, caSecrets);
  }

  @Override
  public UpdateControl<AgentSession> reconcile(
      AgentSession session, Context<AgentSession> context) {
    try (var ignored = MDC.putCloseable("session", session.getMetadata().getName());
        var ignored2 = MDC.putCloseable("namespace", session.getMetadata().getNamespace())) {
      Instant now = clock.instant();
      // Lists, not getSecondaryResources' Sets: a Set hashes every cached object deeply (fabric8's
      // generated hashCode walks all its maps), on every reconcile, once per pod of the session.
      List<Pod> pods = context.getSecondaryResourcesAsStream(Pod.class).toList();
      List<Secret> caSecrets = context.getSecondaryResourcesAsStream(Secret.class).toList();
      Optional<Instant> custodyRecheck = custody.reconcile(session, pods, caSecrets, now);
      int bound = (int) pods.stream().filter(BoundPods::isBound).count();

      StatusCalculator.Outcome outcome = StatusCalculator.compute(session, bound, now);
      AgentSessionStatus previous = session.getStatus();
      AgentSessionStatus next = outcome.status();
      Optional<Instant> retry = Optional.empty();
      if (next.phase() == Phase.Expired) {
        retry = revokeExpired(session, pods);
      }
      announce(session, previous, next);
      SessionRecovery.Outcome recovered = recovery.reconcile(session);
      next =
          next.withConditions(withRecovered(next.conditions(), recovered.condition()))
              .withLastRecovery(recovered.lastRecovery())
              .withActivity(activity(session, context, pods));
      ActivityThrottle.Decision throttled =
          activityThrottle.apply(session.getMetadata().getUid(), previous, next, now);
      next = throttled.status();

      final UpdateControl<AgentSession> control;
      if (Objects.equals(previous, next)) {
        control = UpdateControl.noUpdate();
      } else {
        session.setStatus(next);
        control = UpdateControl.patchStatus(session);
      }
      Stream.of(outcome.nextChange(), custodyRecheck, retry, recovered.retry(), throttled.later())
          .flatMap(Optional::stream)
          .min(Instant::compareTo)
          .ifPresent(
              at -> control.rescheduleAfter(Duration.between(now, at).plusMillis(50).toMillis()));
      return control;
    }
  }

  /** The Recovered condition, if any, goes after Ready (which stays first) and Expired. */
  private static List<Condition> withRecovered(List<Condition> conditions, Condition recovered) {
    if (recovered == null) {
      return conditions;
    }
    List<Condition> all = new ArrayList<>(conditions);
    all.add(recovered);
    return List.copyOf(all);
  }

  /**
   * The sum of the activity the session's sidecars wrote into its lease ledger; the entries of pods
   * that are gone are folded together meanwhile.
   */
  private SessionActivity activity(
      AgentSession session, Context<AgentSession> context, List<Pod> pods) {
    String ledgerName = SessionNames.leases(session.getMetadata().getName());
    ConfigMap ledger =
        context
            .getSecondaryResourcesAsStream(ConfigMap.class)
            .filter(cm -> ledgerName.equals(cm.getMetadata().getName()))
            .findFirst()
            .orElse(null);
    if (ledger == null) {
      return session.getStatus() == null ? null : session.getStatus().activity();
    }
    ActivitySummary.retireGonePods(
        client,
        ledger,
        pods.stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet()));
    return ActivitySummary.of(ledger);
  }

  /** Expiry revokes like deletion does, except that the session object and the CAs stay. */
  private Optional<Instant> revokeExpired(AgentSession session, List<Pod> pods) {
    if (session.getSpec().onRevokeOrDefault() == OnRevoke.DeletePods && !pods.isEmpty()) {
      int deleted = revocation.deletePods(session);
      if (deleted > 0) {
        events.normal(
            session,
            "PodsDeleted",
            "deleted " + deleted + " pod(s) of the expired session (onRevoke: DeletePods)");
      }
    }
    try {
      SessionRevocation.Revoked revoked = revocation.revokeLeases(session);
      if (revoked.leases() + revoked.accessors() > 0) {
        events.normal(
            session,
            "LeasesRevoked",
            "revoked "
                + revoked.leases()
                + " Vault lease(s) and "
                + revoked.accessors()
                + " token accessor(s) of the expired session");
      }
      return Optional.empty();
    } catch (VaultRevoker.VaultUnavailableException e) {
      events.warning(session, "RevocationFailed", e.getMessage());
      LOG.warn("revocation of expired session failed, retrying in {}", REVOCATION_RETRY, e);
      return Optional.of(clock.instant().plus(REVOCATION_RETRY));
    }
  }

  private void announce(
      AgentSession session, AgentSessionStatus previous, AgentSessionStatus next) {
    Phase before = previous == null ? null : previous.phase();
    String readyBefore =
        previous == null || previous.conditions() == null
            ? null
            : previous.conditions().stream()
                .filter(c -> StatusCalculator.READY.equals(c.getType()))
                .map(c -> c.getReason() + ":" + c.getMessage())
                .findFirst()
                .orElse(null);
    var ready = next.conditions().getFirst();
    if (StatusCalculator.REASON_INVALID.equals(ready.getReason())) {
      if (!Objects.equals(readyBefore, ready.getReason() + ":" + ready.getMessage())) {
        events.warning(
            session,
            "InvalidSpec",
            "the session is invalid, its sidecars deny every request: " + ready.getMessage());
        LOG.warn("session is invalid: {}", ready.getMessage());
      }
      return;
    }
    if (before != next.phase()) {
      switch (next.phase()) {
        case Active ->
            events.normal(session, "Active", "the session is active, " + ready.getMessage());
        case Expired -> events.normal(session, "Expired", ready.getMessage());
        default -> {}
      }
      LOG.info("session phase {} -> {}", before, next.phase());
    }
  }

  /**
   * Revocation. Sidecars watching the session deny from the moment it is marked for deletion; here:
   * Vault leases and tokens first (the finalizer stays until Vault confirms), then the pod CAs,
   * then, with {@code onRevoke: DeletePods}, the pods.
   */
  @Override
  public DeleteControl cleanup(AgentSession session, Context<AgentSession> context) {
    try (var ignored = MDC.putCloseable("session", session.getMetadata().getName());
        var ignored2 = MDC.putCloseable("namespace", session.getMetadata().getNamespace())) {
      SessionRevocation.Revoked revoked;
      try {
        revoked = revocation.revokeLeases(session);
      } catch (VaultRevoker.VaultUnavailableException e) {
        // A deleted session must not leave live leases behind: keep the finalizer and retry.
        events.warning(
            session,
            "RevocationFailed",
            e.getMessage() + "; retrying in " + REVOCATION_RETRY.toSeconds() + "s");
        LOG.warn("revocation failed, keeping the finalizer", e);
        markRevoked(session);
        return DeleteControl.noFinalizerRemoval().rescheduleAfter(REVOCATION_RETRY.toMillis());
      }
      int cas = revocation.destroyPodCas(session);
      int pods = 0;
      if (session.getSpec() != null
          && session.getSpec().onRevokeOrDefault() == OnRevoke.DeletePods) {
        pods = revocation.deletePods(session);
      }
      String message =
          "revoked: "
              + revoked.leases()
              + " Vault lease(s), "
              + revoked.accessors()
              + " token accessor(s), "
              + cas
              + " pod CA(s) destroyed"
              + (pods > 0 ? ", " + pods + " pod(s) deleted" : "")
              + (revoked.refused() > 0
                  ? "; "
                      + revoked.refused()
                      + " ledger entr"
                      + (revoked.refused() == 1 ? "y" : "ies")
                      + " refused (see "
                      + SessionRevocation.REASON_REFUSED
                      + ")"
                  : "");
      events.normal(session, "Revoked", message);
      LOG.info("session {}", message);
      recovery.forget(session);
      activityThrottle.forget(session.getMetadata().getUid());
      return DeleteControl.defaultDelete();
    }
  }

  /**
   * Shows the state of a session whose revocation waits for Vault ({@code kubectl get}). Only then:
   * a status write while the finalizer is being removed would make that removal conflict.
   */
  private void markRevoked(AgentSession session) {
    if (session.getStatus() != null && session.getStatus().phase() == Phase.Revoked) {
      return;
    }
    try {
      AgentSession copy = new AgentSession();
      copy.getMetadata().setName(session.getMetadata().getName());
      copy.getMetadata().setNamespace(session.getMetadata().getNamespace());
      copy.setStatus(StatusCalculator.revoked(session, clock.instant()));
      client.resource(copy).patchStatus();
    } catch (RuntimeException e) {
      LOG.debug("could not mark the session revoked: {}", e.getMessage());
    }
  }

  private static <R extends io.fabric8.kubernetes.api.model.HasMetadata>
      SecondaryToPrimaryMapper<R> bySessionLabel() {
    return resource -> {
      var labels = resource.getMetadata().getLabels();
      String session = labels == null ? null : labels.get(PodMarkers.SESSION);
      return session == null
          ? Set.of()
          : Set.of(new ResourceID(session, resource.getMetadata().getNamespace()));
    };
  }
}
