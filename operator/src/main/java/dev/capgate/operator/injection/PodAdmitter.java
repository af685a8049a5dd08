package dev.capgate.operator.injection;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.ca.HostConstraints;
import dev.capgate.operator.ca.MintedCa;
import dev.capgate.operator.ca.NamespaceTrustRoots;
import dev.capgate.operator.ca.PodCaMinter;
import dev.capgate.operator.ca.PodCaObjects;
import dev.capgate.operator.events.KubernetesEvents;
import dev.capgate.operator.metrics.OperatorMetrics;
import dev.capgate.operator.naming.PodMarkers;
import dev.capgate.operator.naming.SessionNames;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Decides what happens to a pod at admission: untouched, refused (with the reason), or injected
 * (with a fresh CA). The webhook server only translates AdmissionReview to and from this.
 */
public final class PodAdmitter {
  private static final Logger LOG = LoggerFactory.getLogger(PodAdmitter.class);
  static final String REFUSED = "capgate refused pod ";

  /** Label values are at most 63 characters; the operator finds a session's pods by label. */
  static final int MAX_LABEL_VALUE = 63;

  private final OperatorMetrics metrics;
  private final KubernetesClient client;
  private final SessionResolver sessions;
  private final PodCaMinter minter;
  private final NamespaceTrustRoots trustRoots;
  private final PodInjector injector;
  private final KubernetesEvents events;
  private final PodCaWriter caWriter;
  private final NamespaceLabels namespaceLabels;

  /**
   * @param metrics counts the pod CAs minted
   */
  public PodAdmitter(
      KubernetesClient client,
      SessionResolver sessions,
      PodCaMinter minter,
      NamespaceTrustRoots trustRoots,
      PodInjector injector,
      KubernetesEvents events,
      PodCaWriter caWriter,
      OperatorMetrics metrics) {
    this.metrics = metrics;
    this.client = client;
    this.sessions = sessions;
    this.minter = minter;
    this.trustRoots = trustRoots;
    this.injector = injector;
    this.events = events;
    this.caWriter = caWriter;
    this.namespaceLabels = new NamespaceLabels(client, java.time.Clock.systemUTC());
  }

  public AdmissionDecision admit(PodAdmissionRequest request) {
    Pod pod = request.pod();
    if ("UPDATE".equals(request.operation()) && request.subResource() == null) {
      return checkUpdate(request);
    }
    if (pod == null || pod.getSpec() == null || !PodMarkers.wantsInjection(pod)) {
      return AdmissionDecision.allow();
    }
    String session = PodMarkers.session(pod).orElse(null);
    try (var ignored = MDC.putCloseable("session", session);
        var ignored2 = MDC.putCloseable("admission", request.uid())) {
      if ("ephemeralcontainers".equals(request.subResource())) {
        return hardenEphemeral(request);
      }
      if (!"CREATE".equals(request.operation()) || request.subResource() != null) {
        return AdmissionDecision.allow();
      }
      if (session == null) {
        return refuse(
            request,
            null,
            "it sets "
                + PodMarkers.INJECT
                + "=true but names no session: add the label "
                + PodMarkers.SESSION
                + "=<AgentSession name>");
      }
      if (PodMarkers.isInjected(pod)) {
        // Re-invocation or re-submission of an injected pod: nothing to add (no second CA), but
        // still checked, and its session must still be usable.
        return switch (sessions.resolve(request.namespace(), session)) {
          case SessionResolver.Unusable unusable ->
              refuse(request, unusable.session(), unusable.reason());
          case SessionResolver.Usable usable -> reinvoke(request, usable.session());
        };
      }
      List<String> reserved = AdmissionHardening.reservedNameViolations(pod);
      if (!reserved.isEmpty()) {
        return refuseIfAny(request, null, reserved);
      }
      List<String> inbound = InboundPorts.violations(pod, injector.ports());
      if (!inbound.isEmpty()) {
        return refuseIfAny(request, null, inbound);
      }
      if (session.length() > MAX_LABEL_VALUE) {
        return refuse(
            request,
            null,
            "AgentSession \""
                + session
                + "\" has a name longer than "
                + MAX_LABEL_VALUE
                + " characters, which cannot be a label value: use a shorter session name");
      }
      return switch (sessions.resolve(request.namespace(), session)) {
        case SessionResolver.Unusable unusable ->
            refuse(request, unusable.session(), unusable.reason());
        case SessionResolver.Usable usable -> inject(request, usable);
      };
    }
  }

  /**
   * An UPDATE of a pod (not a subresource): the webhook sees it when the old or the new pod has the
   * opt-in label. Capgate's containers and markers must stay as they are; nothing is mutated.
   */
  private AdmissionDecision checkUpdate(PodAdmissionRequest request) {
    Pod before = request.oldPod();
    if (before == null || request.pod() == null) {
      return AdmissionDecision.allow();
    }
    List<String> violations = AdmissionHardening.updateViolations(before, request.pod());
    if (violations.isEmpty()) {
      return AdmissionDecision.allow();
    }
    String session = PodMarkers.isInjected(before) ? PodMarkers.session(before).orElse(null) : null;
    try (var ignored = MDC.putCloseable("session", session);
        var ignored2 = MDC.putCloseable("admission", request.uid())) {
      return refuseIfAny(
          request,
          session == null ? null : sessions.find(request.namespace(), session),
          violations);
    }
  }

  /**
   * kubectl debug: the new ephemeral containers get the agent hardening (the patch is a diff of the
   * whole pod, applied by the API server to the pod it is updating), then the same checks.
   */
  private AdmissionDecision hardenEphemeral(PodAdmissionRequest request) {
    Pod hardened = PodInjector.hardenNewEphemeralContainers(request.pod(), request.oldPod());
    List<String> violations = AdmissionHardening.ephemeralViolations(hardened, request.oldPod());
    if (!violations.isEmpty()) {
      return refuseIfAny(request, null, violations);
    }
    return AdmissionDecision.allow(PodPatch.diff(request.pod(), hardened));
  }

  /**
   * A pod that arrives marked injected: the webhook re-invoked on its own output (another webhook
   * may have added containers since), or an injected pod submitted again. It must be exactly what
   * the webhook makes with the plan it names, with a CA minted for its session and not yet any
   * pod's ({@link InjectionClaim}); else it is refused, never trusted.
   */
  private AdmissionDecision reinvoke(PodAdmissionRequest request, AgentSession session) {
    List<String> problems = new ArrayList<>();
    InjectionPlan claimed =
        InjectionClaim.claimedPlan(request.pod(), request.namespace(), session, problems);
    java.util.Optional<String> difference =
        claimed == null
            ? java.util.Optional.of(problems.getFirst())
            : InjectionClaim.difference(request.pod(), claimed, injector);
    if (difference.isEmpty() && !request.dryRun()) {
      // A dry run stores nothing, and its first pass did not store the CA either.
      difference =
          InjectionClaim.caDifference(
              storedCa(request.namespace(), claimed.caName()),
              claimed.caName(),
              claimed.session(),
              claimed.caFingerprint(),
              Placeholders.json(claimed.placeholders()));
    }
    if (difference.isPresent()) {
      return refuse(
          request,
          session,
          "the pod is marked "
              + PodMarkers.STATUS
              + "="
              + PodMarkers.STATUS_INJECTED
              + " but differs from what the capgate webhook injects ("
              + difference.get()
              + "): remove capgate's"
              + " containers, volumes and annotations and let the webhook inject");
    }
    Pod completed = injector.inject(request.pod(), null);
    List<String> violations = AdmissionHardening.violations(completed);
    if (!violations.isEmpty()) {
      return refuseIfAny(request, session, violations);
    }
    return AdmissionDecision.allow(PodPatch.diff(request.pod(), completed));
  }

  private AdmissionDecision inject(PodAdmissionRequest request, SessionResolver.Usable usable) {
    AgentSession session = usable.session();
    List<CredentialPlaceholder> placeholders = Placeholders.generate(session.getSpec());
    List<String> clashes =
        placeholders.stream()
            .map(CredentialPlaceholder::env)
            .filter(PodInjector::isCapgateAgentVariable)
            .toList();
    if (!clashes.isEmpty()) {
      return refuse(
          request,
          session,
          "AgentSession \""
              + session.getMetadata().getName()
              + "\" declares a placeholder"
              + " variable that capgate sets itself for the trust settings: "
              + String.join(", ", clashes));
    }
    // Before anything is minted: PodSecurity admission runs after this webhook and would reject
    // the injected pod with a message that does not say what to change.
    List<String> warnings;
    switch (NamespacePodSecurity.of(namespaceLabels, request.namespace())) {
      case NamespacePodSecurity.Verdict.Rejects rejects -> {
        return refuse(request, session, rejects.reason());
      }
      case NamespacePodSecurity.Verdict.Fits fits -> warnings = fits.warnings();
    }
    if (!request.dryRun()) {
      // The namespace's shared system roots, which the pod's capgate-init mounts: written once per
      // namespace, not per pod (issue 13).
      java.util.Optional<String> noRoots = trustRoots.ensure(request.namespace());
      if (noRoots.isPresent()) {
        return refuse(request, session, noRoots.get());
      }
    }
    String caName = PodCaObjects.newName();
    // The pod spec needs the root's fingerprint only; the signing CA under it is signed with the
    // Secret, after the answer (issue 13).
    PodCaMinter.Root root =
        minter.mintRoot(
            caName, HostConstraints.interceptedHosts(session.getSpec()), usable.expiresAt());
    String fingerprint = root.fingerprint();
    InjectionPlan plan = plan(request.namespace(), session, caName, fingerprint, placeholders);
    Pod injected = injector.inject(request.pod(), plan);
    List<String> violations = AdmissionHardening.violations(injected);
    if (!violations.isEmpty()) {
      return refuseIfAny(request, session, violations);
    }
    AdmissionDecision decision =
        AdmissionDecision.allow(PodPatch.diff(request.pod(), injected), warnings);
    LOG.info(
        "injected pod {} (CA {}, {}{})",
        request.podDescription(),
        caName,
        fingerprint,
        request.dryRun() ? ", dry run: nothing stored" : "");
    if (request.dryRun()) {
      return decision;
    }
    metrics.caMinted();
    // Last, when nothing can fail any more: from here the Secret is pending until written. It is
    // written after the answer is sent (PodCaWriter says why that is safe); the event once stored.
    return decision.afterAnswer(
        caWriter.accept(
            request.namespace(),
            caName,
            () -> caSecret(request.namespace(), caName, session, root.complete(), placeholders),
            session,
            "minted pod CA "
                + caName
                + " ("
                + fingerprint
                + ", valid until "
                + root.certificate().getNotAfter().toInstant()
                + ") for pod "
                + request.podDescription()));
  }

  /**
   * The plan of a pod of {@code session} with the given CA: at injection, and to check a claim of
   * one.
   */
  static InjectionPlan plan(
      String namespace,
      AgentSession session,
      String caName,
      String caFingerprint,
      List<CredentialPlaceholder> placeholders) {
    return new InjectionPlan(
        namespace,
        session.getMetadata().getName(),
        caName,
        caFingerprint,
        SessionNames.leases(session.getMetadata().getName()),
        placeholders);
  }

  /**
   * The CA objects belong to the session until the pod exists (its uid is not known yet); the
   * reconciler then hands them to the pod, so they go with it.
   */
  private static Secret caSecret(
      String namespace,
      String caName,
      AgentSession session,
      MintedCa ca,
      List<CredentialPlaceholder> placeholders) {
    // One small Secret per pod (about 3 KiB): the agents' trust files are made in the pod by
    // capgate-init from its root.crt and the namespace's shared roots.
    return PodCaObjects.sessionOwned(
        namespace, caName, session, ca, Placeholders.json(placeholders));
  }

  /** How long a re-invocation waits for a CA Secret that another replica may still be writing. */
  static final Duration CA_WAIT = Duration.ofSeconds(3);

  /**
   * The CA Secret a re-invoked pod names: the one this replica is still writing, else the stored
   * one, waiting up to {@link #CA_WAIT} for it (the replica that admitted the pod first writes it
   * after its answer); null if there is none.
   */
  private Secret storedCa(String namespace, String name) {
    long deadline = System.nanoTime() + CA_WAIT.toNanos();
    while (true) {
      Secret pending = caWriter.pending(namespace, name);
      if (pending != null) {
        return pending;
      }
      Secret stored = client.secrets().inNamespace(namespace).withName(name).get();
      if (stored != null || System.nanoTime() > deadline) {
        return stored;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
  }

  private AdmissionDecision refuseIfAny(
      PodAdmissionRequest request, AgentSession session, List<String> violations) {
    if (violations.isEmpty()) {
      return AdmissionDecision.allow();
    }
    return refuse(request, session, String.join("; ", new ArrayList<>(violations)));
  }

  private AdmissionDecision refuse(
      PodAdmissionRequest request, AgentSession session, String reason) {
    String message = REFUSED + request.podDescription() + ": " + reason;
    LOG.info(message);
    if (session != null && !request.dryRun()) {
      events.warning(session, "PodRejected", message);
    }
    return AdmissionDecision.deny(message);
  }
}
