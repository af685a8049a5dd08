package dev.capgate.operator;

import dev.capgate.api.identity.VaultTokenExchange;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.operator.ca.EcKeyPool;
import dev.capgate.operator.ca.NamespaceTrustRoots;
import dev.capgate.operator.ca.PodCaMinter;
import dev.capgate.operator.ca.ServingCertificates;
import dev.capgate.operator.ca.SharedTrustRoots;
import dev.capgate.operator.ca.TrustBundle;
import dev.capgate.operator.config.OperatorConfig;
import dev.capgate.operator.events.KubernetesEvents;
import dev.capgate.operator.https.HttpsListener;
import dev.capgate.operator.identity.IdentityServer;
import dev.capgate.operator.identity.OperatorEndpoint;
import dev.capgate.operator.identity.SessionSigner;
import dev.capgate.operator.identity.SidecarAttestation;
import dev.capgate.operator.identity.SigningKeyStore;
import dev.capgate.operator.identity.TokenLedger;
import dev.capgate.operator.identity.VaultJwtLogin;
import dev.capgate.operator.identity.VaultTokenIssuer;
import dev.capgate.operator.injection.PodAdmitter;
import dev.capgate.operator.injection.PodCaWriter;
import dev.capgate.operator.injection.PodInjector;
import dev.capgate.operator.injection.SessionCache;
import dev.capgate.operator.injection.SessionResolver;
import dev.capgate.operator.injection.SidecarSettings;
import dev.capgate.operator.injection.TrustRootsRef;
import dev.capgate.operator.metrics.MetricsServer;
import dev.capgate.operator.metrics.OperatorMetrics;
import dev.capgate.operator.session.AgentSessionReconciler;
import dev.capgate.operator.session.SessionRevocation;
import dev.capgate.operator.session.VaultRevoker;
import dev.capgate.operator.webhook.AdmissionServer;
import dev.capgate.operator.webhook.ProvidedServingCertificate;
import dev.capgate.operator.webhook.ServedNamespaces;
import dev.capgate.operator.webhook.ServingCertificateStore;
import dev.capgate.operator.webhook.WebhookRegistration;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator as one object: the AgentSession reconciler (JOSDK) and the admission webhook
 * (Vert.x), wired from an {@link OperatorConfig}. {@link Main} runs it; tests start it in their own
 * JVM against a real API server.
 *
 * <p>Replicas: every replica serves the webhook (admission needs no leader: each decision reads the
 * session from its own informer or the API server and writes objects of its own); with leader
 * election only the holder of the Lease processes AgentSession events. A replica that loses the
 * Lease without being asked to stop exits (the Deployment restarts it as a follower), so two never
 * reconcile at once; one that stops releases the Lease, so a rolling update hands over at once, not
 * after the lease duration.
 */
public final class CapgateOperator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CapgateOperator.class);

  /** Reconciler and dependent-resource threads each (operator/README.md, "Footprint"). */
  static final int RECONCILE_THREADS = 8;

  /**
   * EC key pairs generated ahead of admissions (two per pod CA): a burst of 16 pods mints without
   * generating a key inside the webhook call; a longer one generates inline as before.
   */
  static final int POD_CA_KEY_POOL = 32;

  /**
   * How long a start waits for cert-manager's serving certificate Secret: within the chart's
   * startupProbe (120 s), and far longer than cert-manager takes to issue one after the install.
   */
  static final Duration PROVIDED_WAIT = Duration.ofSeconds(90);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final Operator operator;
  private final Vertx vertx;
  private final HttpsListener webhook;
  private final HttpsListener identity;
  private final KubernetesEvents events;
  private final SessionCache sessionCache;
  private final PodCaWriter caWriter;
  private final String caBundlePem;
  private final Leadership leadership;
  private final ReconcileCounter reconciliations;
  private final MetricsServer metricsServer;
  private final ServedNamespaces served;
  private final ProvidedServingCertificate provided;

  private CapgateOperator(
      KubernetesClient client,
      OperatorConfig config,
      Operator operator,
      Vertx vertx,
      HttpsListener webhook,
      HttpsListener identity,
      KubernetesEvents events,
      SessionCache sessionCache,
      PodCaWriter caWriter,
      String caBundlePem,
      Leadership leadership,
      ReconcileCounter reconciliations,
      MetricsServer metricsServer,
      ServedNamespaces served,
      ProvidedServingCertificate provided) {
    this.client = client;
    this.config = config;
    this.operator = operator;
    this.vertx = vertx;
    this.webhook = webhook;
    this.identity = identity;
    this.events = events;
    this.sessionCache = sessionCache;
    this.caWriter = caWriter;
    this.caBundlePem = caBundlePem;
    this.leadership = leadership;
    this.reconciliations = reconciliations;
    this.metricsServer = metricsServer;
    this.served = served;
    this.provided = provided;
  }

  /** Starts the operator; a replica that loses its leadership unasked exits the JVM (status 1). */
  public static CapgateOperator start(KubernetesClient client, OperatorConfig config) {
    return start(client, config, () -> System.exit(1));
  }

  /**
   * @param onLeadershipLost run (on a thread of its own) when this replica loses the Lease while
   *     not stopping: it must stop this replica's reconciling for good, exiting is the simple way
   */
  public static CapgateOperator start(
      KubernetesClient client, OperatorConfig config, Runnable onLeadershipLost) {
    // First, before anything runs: a watched namespace another installation serves fails the start
    // (both webhooks would inject its pods). The label keeps every installation's
    // UnservedNamespacePolicy from refusing pods here.
    ServedNamespaces served =
        ServedNamespaces.start(client, config.webhookConfigurationName(), config.watchNamespaces());
    // A provided serving certificate (cert-manager's) is waited for before anything else starts:
    // missing or unusable, the start fails with nothing left running.
    ProvidedServingCertificate provided = null;
    if (config.webhookCertificateProvided()) {
      try {
        provided =
            ProvidedServingCertificate.load(
                client, config.namespace(), config.webhookCertificateSecret(), PROVIDED_WAIT);
      } catch (RuntimeException e) {
        served.close();
        throw e;
      }
    }
    Clock clock = Clock.systemUTC();
    KubernetesEvents events = new KubernetesEvents(client, config.identity());
    OperatorMetrics metrics = OperatorMetrics.prometheus();

    VaultClient vault = vaultClient(config);
    VaultRevoker revoker = vaultRevoker(config, vault, metrics);
    SessionRevocation revocation = new SessionRevocation(client, revoker, events, metrics);
    Leadership leadership = new Leadership(config, onLeadershipLost);
    // JOSDK's reconcile meters without per-resource ones: those would label by session name.
    ReconcileCounter reconciliations =
        new ReconcileCounter(MicrometerMetrics.withoutPerResourceMetrics(metrics.registry()));
    Operator operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withCloseClientOnStop(false)
                  // JOSDK's defaults are 50 + 50 platform threads, which a burst of admissions
                  // (every pod and CA Secret event reconciles its session) fills: each one costs
                  // a stack and a malloc arena. Reconciles wait on the API server, not the CPU.
                  .withConcurrentReconciliationThreads(RECONCILE_THREADS)
                  .withConcurrentWorkflowExecutorThreads(RECONCILE_THREADS)
                  // Every reconcile starts with a copy of its session; JOSDK's default copy goes
                  // through the JSON text. The serializer's token buffer makes the same copy at
                  // about half the cost, and a burst of admissions reconciles for every pod event.
                  .withResourceCloner(new TokenBufferCloner(client.getKubernetesSerialization()))
                  .withMetrics(reconciliations);
              if (config.leaderElection()) {
                o.withLeaderElectionConfiguration(
                    LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(
                            config.leaderElectionLease())
                        .withLeaseNamespace(config.namespace())
                        .withIdentity(config.identity())
                        // JOSDK would call System.exit from the callback, also when stop() cancels
                        // the election
                        // from a shutdown hook (a deadlock: JOSDK issues #1614, #2496): Leadership
                        // decides instead.
                        .withExitOnStopLeading(false)
                        .withLeaderCallbacks(leadership.callbacks())
                        .build());
              }
            });
    operator.register(
        new AgentSessionReconciler(client, clock, config.orphanedCaGrace(), revocation, events),
        c -> {
          if (!config.watchNamespaces().isEmpty()) {
            c.settingNamespaces(new HashSet<>(config.watchNamespaces()));
          }
        });
    operator.start();

    // The signing key first: without it no sidecar can get a Vault token, so fail at start.
    SessionSigner signer =
        new SessionSigner(
            new SigningKeyStore(client)
                .loadOrCreate(config.namespace(), config.vaultIdentity().signerSecret()),
            config.vaultIdentity().sessionIssuer(),
            config.vaultIdentity().jwtAudience(),
            clock);
    OperatorEndpoint endpoint = OperatorEndpoint.resolve(client, config);
    List<String> certificateNames = new ArrayList<>(config.servingCertificateNames());
    endpoint.certificateNames().stream()
        .filter(n -> !certificateNames.contains(n))
        .forEach(certificateNames::add);
    ServingCertificates.Issued tls;
    if (provided != null) {
      // cert-manager's: its names are the Certificate's (the chart lists the Service's DNS names,
      // and points sidecars at one of them), so no cluster IP is added.
      tls = provided.initial();
    } else {
      tls =
          new ServingCertificateStore(client)
              .loadOrIssue(config.namespace(), config.webhookCertificateSecret(), certificateNames);
    }
    Vertx vertx = Vertx.vertx();

    // The identity listener first: injected sidecars get its address (the port may have been 0),
    // and the CA of its serving certificate. Then the webhook listener, with that in its admitter.
    SessionResolver sessions = new SessionResolver(client, clock);
    VaultTokenIssuer issuer =
        new VaultTokenIssuer(
            new SidecarAttestation(
                client, sessions, config.sidecar().identityAudience(), config.sidecar().image()),
            signer,
            vault == null ? null : new VaultJwtLogin(vault, metrics),
            new TokenLedger(client),
            revoker,
            sessions,
            events);
    HttpsListener identity =
        IdentityServer.start(
            vertx, config.webhookHost(), config.vaultIdentity().port(), tls, issuer);
    int identityPort = identity.port();
    SidecarSettings sidecar =
        config.sidecar().withOperator(endpoint.url(identityPort), tls.caCertPem());
    SharedTrustRoots roots =
        new SharedTrustRoots(TrustBundle.systemRoots(config.systemRootsFile()));
    // The webhook reads sessions from its own informer (a GET on a miss) and stores CA Secrets
    // after its answer; the identity listener above keeps reading sessions from the API server.
    SessionCache sessionCache = SessionCache.start(client, config.watchNamespaces());
    PodCaWriter caWriter = new PodCaWriter(client, events);
    PodAdmitter admitter =
        new PodAdmitter(
            client,
            new SessionResolver(client, clock, sessionCache),
            new PodCaMinter(clock, config.caMaxValidity(), EcKeyPool.started(POD_CA_KEY_POOL)),
            new NamespaceTrustRoots(client, roots, clock),
            new PodInjector(sidecar, new TrustRootsRef(roots.name(), roots.sha256())),
            events,
            caWriter,
            metrics);
    LOG.info(
        "sidecars ask {}{} for their Vault token; session JWTs signed with key {} (secret {}/{})",
        endpoint.url(identityPort),
        VaultTokenExchange.PATH,
        signer.keyId(),
        config.namespace(),
        config.vaultIdentity().signerSecret());
    HttpsListener webhook =
        AdmissionServer.start(
            vertx, config.webhookHost(), config.webhookPort(), tls, admitter, metrics);
    MetricsServer metricsServer =
        MetricsServer.start(vertx, config.webhookHost(), config.metricsPort(), metrics);
    int port = webhook.port();

    WebhookRegistration registration = new WebhookRegistration(client);
    if (config.manageWebhookConfiguration()) {
      WebhookRegistration.Target target =
          config.webhookUrl() != null
              ? WebhookRegistration.Target.url(
                  config
                      .webhookUrl()
                      .replace(OperatorConfig.PORT_PLACEHOLDER, Integer.toString(port)))
              : WebhookRegistration.Target.service(
                  config.namespace(), config.webhookServiceName(), config.webhookServicePort());
      registration.apply(
          config.webhookConfigurationName(),
          target,
          tls.caCertPem(),
          config.namespace(),
          config.watchNamespaces());
    } else if (config.webhookCertificateProvided()) {
      LOG.info(
          "the caBundle of {} is cert-manager's to set (annotation cert-manager.io/inject-ca-from)",
          config.webhookConfigurationName());
    } else {
      registration.patchCaBundle(config.webhookConfigurationName(), tls.caCertPem());
    }
    if (provided != null) {
      provided.follow(
          client,
          config.namespace(),
          config.webhookCertificateSecret(),
          renewed -> {
            webhook.updateCertificate(renewed);
            identity.updateCertificate(renewed);
          });
    }
    LOG.info(
        "capgate operator {} started (webhook port {}, identity port {}, sidecar image {}, {})",
        config.identity(),
        port,
        identityPort,
        config.sidecar().image(),
        config.leaderElection()
            ? "leader election on Lease " + config.namespace() + "/" + config.leaderElectionLease()
            : "no leader election: run one replica");
    return new CapgateOperator(
        client,
        config,
        operator,
        vertx,
        webhook,
        identity,
        events,
        sessionCache,
        caWriter,
        tls.caCertPem(),
        leadership,
        reconciliations,
        metricsServer,
        served,
        provided);
  }

  /** This replica's name in the Lease and in events. */
  public String identity() {
    return config.identity();
  }

  /** True while this replica holds the Lease (always true without leader election once started). */
  public boolean isLeader() {
    return !config.leaderElection() || leadership.leading.get();
  }

  /** Reconciliations this replica ran (JOSDK's count; a follower's stays 0). */
  public long reconciliations() {
    return reconciliations.reconciliations();
  }

  /** The webhook listener's port: {@code /mutate}. */
  public int webhookPort() {
    return webhook.port();
  }

  /** The identity listener's port: {@code /v1/vault-token}. */
  public int identityPort() {
    return identity.port();
  }

  /** The plain-HTTP listener's port: {@code GET /metrics}. */
  public int metricsPort() {
    return metricsServer.port();
  }

  /** The CA the API server uses to verify the webhook (and sidecars the identity listener). */
  public String caBundlePem() {
    return caBundlePem;
  }

  /**
   * The first step of a stop (Main, on SIGTERM): readiness fails and the listeners close each
   * connection after its answer, but go on answering until {@link #close()}. Reconciling goes on
   * too: stopping it early would only hand over the Lease sooner, which {@code close} does anyway.
   */
  public void drain() {
    LOG.info("draining: /readyz fails, connections close after their answer");
    webhook.drain();
    identity.drain();
  }

  @Override
  public void close() {
    leadership.stopping.set(true);
    served.close();
    if (provided != null) {
      provided.close();
    }
    webhook.close();
    identity.close();
    caWriter.close(); // before the events: it records CaMinted once a Secret is stored
    sessionCache.close();
    metricsServer.close();
    operator.stop();
    if (config.leaderElection()) {
      releaseLease();
    }
    vertx.close().toCompletionStage().toCompletableFuture().join();
    events.close();
  }

  /**
   * After the reconciler has stopped: if this replica still holds the Lease, give it up the way
   * client-go's ReleaseOnCancel does (no holder, 1 s), so a follower takes over at its next try. An
   * update, not a patch: if someone else took it meanwhile, the conflict leaves theirs alone.
   */
  private void releaseLease() {
    try {
      var resource =
          client
              .resources(Lease.class)
              .inNamespace(config.namespace())
              .withName(config.leaderElectionLease());
      Lease lease = resource.get();
      if (lease == null
          || lease.getSpec() == null
          || !config.identity().equals(lease.getSpec().getHolderIdentity())) {
        return;
      }
      lease.getSpec().setHolderIdentity("");
      lease.getSpec().setLeaseDurationSeconds(1);
      client.resource(lease).update();
      LOG.info("released the leader Lease {}/{}", config.namespace(), config.leaderElectionLease());
    } catch (KubernetesClientException e) {
      LOG.warn(
          "could not release the leader Lease {}/{}: {} (a follower takes over when it expires)",
          config.namespace(),
          config.leaderElectionLease(),
          e.getMessage());
    }
  }

  /** Who leads, and what to do when the Lease is lost. */
  private static final class Leadership {
    final AtomicBoolean leading = new AtomicBoolean();
    final AtomicBoolean stopping = new AtomicBoolean();
    private final OperatorConfig config;
    private final Runnable onLost;

    Leadership(OperatorConfig config, Runnable onLost) {
      this.config = config;
      this.onLost = onLost;
    }

    LeaderCallbacks callbacks() {
      return new LeaderCallbacks(
          this::started,
          this::stopped,
          leader -> LOG.info("the AgentSession reconciler's leader is now {}", leader));
    }

    private void started() {
      leading.set(true);
      LOG.info("{} leads: it reconciles AgentSessions", config.identity());
    }

    private void stopped() {
      leading.set(false);
      if (stopping.get()) {
        LOG.info("{} stopped leading (shutting down)", config.identity());
        return;
      }
      // Lost the Lease (API server unreachable past the renew deadline, or a long pause): another
      // replica may be reconciling already. Not from this callback's thread, which holds the
      // elector's lock that the shutdown path needs.
      LOG.error(
          "{} lost the leader Lease {}/{} without being asked to stop: stopping, so that only one replica"
              + " reconciles",
          config.identity(),
          config.namespace(),
          config.leaderElectionLease());
      Thread.ofPlatform().name("capgate-leadership-lost").start(onLost);
    }
  }

  /**
   * The one Vault client of the operator (JWT logins, revocations), trusting {@code
   * CAPGATE_VAULT_CACERT} alone when set; null without a Vault address.
   */
  private static VaultClient vaultClient(OperatorConfig config) {
    String address = config.sidecar().vaultAddress();
    return address == null
        ? null
        : VaultClient.create(address, config.vaultCaCertFile(), VaultRevoker.TIMEOUT);
  }

  private static VaultRevoker vaultRevoker(
      OperatorConfig config, VaultClient vault, OperatorMetrics metrics) {
    if (vault == null) {
      LOG.warn("no Vault address configured: leases recorded by sidecars cannot be revoked");
      return null;
    }
    Supplier<String> token;
    if (config.operatorVaultTokenFile() != null) {
      Path file = config.operatorVaultTokenFile();
      token = () -> read(file);
    } else if (config.operatorVaultToken() != null) {
      String value = config.operatorVaultToken();
      token = () -> value;
    } else {
      LOG.warn("no Vault token for the operator: leases recorded by sidecars cannot be revoked");
      return null;
    }
    return new VaultRevoker(vault, token, metrics);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      throw new VaultRevoker.VaultUnavailableException(
          "cannot read the operator's Vault token from " + file, e);
    }
  }
}
