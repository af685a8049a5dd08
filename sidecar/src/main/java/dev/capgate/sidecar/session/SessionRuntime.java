package dev.capgate.sidecar.session;

import dev.capgate.api.v1alpha1.SessionActivity;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.sidecar.credentials.CredentialResolver;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.kube.ApiClient;
import dev.capgate.sidecar.kube.ApiServer;
import dev.capgate.sidecar.policy.PolicySource;
import dev.capgate.sidecar.vault.CredentialBroker;
import dev.capgate.sidecar.vault.OperatorLogin;
import dev.capgate.sidecar.vault.VaultIdentity;
import dev.capgate.sidecar.vault.VaultTrust;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The session side of the sidecar in one piece: the live AgentSession (policy in force, revocation,
 * expiry, API outage bound), the Vault identity, the credential broker and the lease ledger.
 *
 * <p>How {@code ProxyCommand} wires it, replacing {@code loadSession(policies)} and {@code
 * credentialResolver()} (keep the {@code --session-file} path for local runs without a cluster):
 *
 * <pre>{@code
 * PolicySource policies = new PolicySource();
 * SessionRuntime session = SessionRuntime.start(SessionSettings.from(config), policies); // returns at once
 * CredentialResolver credentials = session.credentials();   // → new HttpServices(policies, credentials, ...)
 * policies.onRevocation(intercept::closeAllConnections);    // as today: revocation closes open connections
 * // shutdown hook: after intercept.stop() and dns.stop(), before vertx.close():
 * session.close();                                          // blocks briefly (Vault, API): not on an event loop
 * }</pre>
 *
 * {@code start} throws {@link IllegalArgumentException} for missing settings (no {@code
 * CAPGATE_SESSION_NAMESPACE}/{@code CAPGATE_SESSION_NAME}) and {@link IllegalStateException} when
 * the pod has no in-cluster API-server configuration; both belong in a {@code StartupFailure}. The
 * API-server client ({@link ApiClient}, on the data plane's Vert.x) uses the pod's ordinary
 * service-account token at {@code /var/run/secrets/kubernetes.io/serviceaccount} (the {@code
 * capgate}-audience identity token is for the operator only).
 *
 * <p>Until the first answer from the API server every request is denied ("no session loaded yet");
 * then only an Active session's policy lets traffic through. Spec changes install a new policy for
 * the next request. Deletion, expiry (a local timer at creation + spec.ttl), or phase
 * Revoked/Expired revoke for good, and then the sidecar's Vault token is revoked and with it every
 * lease it created. An API server out of reach for longer than {@code apiOutageGrace} revokes until
 * it answers again. {@code /readyz} can keep using {@code policies.problem()}.
 */
public final class SessionRuntime implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(SessionRuntime.class.getName());

  private final ApiClient api;
  private final Vertx ownedVertx;
  private final SessionGate gate;
  private final SessionWatcher watcher;
  private final ConfigMapLeaseLedger ledger;
  private final VaultIdentity identity;
  private final CredentialBroker broker;
  private final CredentialResolver credentials;
  private final SessionSettings settings;
  private final Vertx vertx;
  private volatile ActivityReporter activity;
  private final java.util.List<java.util.function.Consumer<String>> endListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  private SessionRuntime(
      ApiClient api,
      Vertx vertx,
      Vertx ownedVertx,
      SessionSettings settings,
      PolicySource policies,
      Clock clock) {
    this.api = api;
    this.vertx = vertx;
    this.ownedVertx = ownedVertx;
    this.settings = settings;
    if (settings.vaultConfigured()) {
      ledger = new ConfigMapLeaseLedger(api, settings.namespace(), settings.leaseConfigMap());
      VaultClient vault =
          VaultTrust.client(
              settings.vaultAddress(),
              settings.vaultCaPem(),
              settings.vaultCaFile(),
              settings.vaultTimeout());
      OperatorLogin login =
          OperatorLogin.create(
              settings.operatorUrl(),
              settings.operatorCa(),
              settings.identityTokenFile(),
              vault,
              settings.namespace(),
              settings.name(),
              settings.vaultTimeout().multipliedBy(2));
      identity = new VaultIdentity(vault, login, ledger, clock);
      broker = new CredentialBroker(vault, identity, ledger, settings.kvCacheTtl(), clock);
      credentials = broker;
    } else {
      ledger = null;
      identity = null;
      broker = null;
      String why =
          settings.vaultAddress() == null
              ? "no Vault address configured (CAPGATE_VAULT_ADDR)"
              : "no operator to ask for the session's Vault token (CAPGATE_OPERATOR_URL: the session declares no spec.vault)";
      // A session without credentials gets no operator URL, and that is normal; a missing address
      // is not.
      LOG.log(
          settings.vaultAddress() == null
              ? java.util.logging.Level.WARNING
              : java.util.logging.Level.INFO,
          why + ": requests on routes with a credential will be answered 503");
      credentials =
          (credential, session) ->
              CompletableFuture.failedFuture(
                  new CredentialUnavailableException(credential.name(), why));
    }
    gate =
        new SessionGate(
            settings.namespace(),
            settings.name(),
            policies,
            settings.apiOutageGrace(),
            clock,
            this::sessionEnded);
    watcher =
        new SessionWatcher(
            api, settings.namespace(), settings.name(), gate, settings.apiOutageGrace());
  }

  /**
   * With {@code server} (in a pod: {@link ApiServer#inCluster()}), called on the data plane's
   * {@code vertx} (no threads of its own).
   */
  public static SessionRuntime start(
      SessionSettings settings, PolicySource policies, Vertx vertx, ApiServer server) {
    return start(settings, policies, vertx, server, null);
  }

  /** With the caller's API server (tests), on a small Vert.x of its own that close() stops. */
  public static SessionRuntime start(
      SessionSettings settings, PolicySource policies, ApiServer server) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    try {
      return start(settings, policies, vertx, server, vertx);
    } catch (RuntimeException e) {
      vertx.close();
      throw e;
    }
  }

  private static SessionRuntime start(
      SessionSettings settings, PolicySource policies, Vertx vertx, ApiServer server, Vertx owned) {
    // Short timeouts: the heartbeat measures the API server's absence, and long waits inside a
    // call would only blur it.
    ApiClient api = new ApiClient(vertx, server, Duration.ofSeconds(3), Duration.ofSeconds(10));
    SessionRuntime runtime;
    try {
      runtime = new SessionRuntime(api, vertx, owned, settings, policies, Clock.systemUTC());
    } catch (RuntimeException e) {
      api.close();
      throw e;
    }
    if (runtime.identity != null) {
      // Log in once the session is in force and names a credential, not at start: the operator
      // hands out a token only for an Active session with spec.vault, so an earlier attempt would
      // only be refused (and delay the first request by the login backoff).
      AtomicBoolean warmedUp = new AtomicBoolean();
      policies.onInstall(
          policy -> {
            if (policy.usesCredentials() && warmedUp.compareAndSet(false, true)) {
              runtime.identity.warmUp(); // schedules on the identity's virtual thread
            }
          });
    }
    runtime.watcher.start();
    LOG.info(
        "watching AgentSession "
            + settings.namespace()
            + "/"
            + settings.name()
            + " (API outage grace "
            + settings.apiOutageGrace().toSeconds()
            + " s)"
            + (settings.vaultConfigured()
                ? ", Vault "
                    + settings.vaultAddress()
                    + " through the operator at "
                    + settings.operatorUrl()
                : ""));
    return runtime;
  }

  /**
   * The sidecar's own API access (the pod's service account, sidecar container only), for the other
   * API objects the sidecar writes (AgentApprovals).
   */
  public ApiClient api() {
    return api;
  }

  /** The session's namespace and name, as the pod's settings give them. */
  public SessionSettings settings() {
    return settings;
  }

  /** What the data plane resolves credentials with. Never blocks; fails closed. */
  public CredentialResolver credentials() {
    return credentials;
  }

  /**
   * Reports {@code pod}'s activity into the session's ledger every few seconds when it changed
   * (operator/README.md "Session activity"), until {@link #close}.
   */
  public void reportActivity(String pod, Supplier<SessionActivity> source) {
    reportActivity(pod, source, ActivityReporter.INTERVAL);
  }

  synchronized void reportActivity(String pod, Supplier<SessionActivity> source, Duration every) {
    if (activity == null) {
      activity =
          new ActivityReporter(
              vertx, api, settings.namespace(), settings.leaseConfigMap(), pod, source, every);
    }
  }

  /**
   * {@code listener} runs once with the reason when the session ends for good (deleted, expired,
   * revoked), on the thread that sees it, before the Vault token is revoked: a resolver in front of
   * {@link #credentials()} (GitHub App tokens) revokes what it minted. Not called on {@link
   * #close}: the caller stops its own pieces.
   */
  public void onSessionEnded(java.util.function.Consumer<String> listener) {
    endListeners.add(listener);
  }

  /** The sidecar's Vault identity, or null when no Vault is configured (metrics, tests). */
  public VaultIdentity vaultIdentity() {
    return identity;
  }

  /** The broker, or null when no Vault is configured (metrics, tests). */
  public CredentialBroker broker() {
    return broker;
  }

  /**
   * Runs once, on a thread of its own, after a terminal revocation: nothing can bring the session
   * back.
   */
  private void sessionEnded(String reason) {
    watcher.close(); // the operator removes this sidecar's Role next: watching on would only fail
    for (java.util.function.Consumer<String> listener : endListeners) {
      try {
        listener.accept(reason);
      } catch (RuntimeException e) {
        LOG.warning("a session-end step failed: " + e.getMessage());
      }
    }
    if (broker != null) {
      broker.endSession(reason);
    }
  }

  /**
   * Stops watching and, since this pod will use none of them again, revokes the sidecar's Vault
   * token and leases (the operator would too, with the session; this is sooner). Blocks for the few
   * Vault and API calls that takes; call it off the event loop (a shutdown hook is fine).
   */
  @Override
  public void close() {
    watcher.close();
    gate.close();
    if (activity != null) {
      activity.close();
    }
    if (broker != null) {
      broker.endSession("sidecar stopping");
      broker.close();
      identity.close();
      ledger.close();
    }
    api.close();
    if (ownedVertx != null) {
      ownedVertx.close();
    }
  }
}
