package dev.capgate.sidecar;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.sidecar.SidecarPorts;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.sidecar.admin.AdminAccess;
import dev.capgate.sidecar.admin.AdminServer;
import dev.capgate.sidecar.admin.Metrics;
import dev.capgate.sidecar.approval.Approvals;
import dev.capgate.sidecar.approval.KubeApprovals;
import dev.capgate.sidecar.audit.AuditLog;
import dev.capgate.sidecar.audit.AuditRecorder;
import dev.capgate.sidecar.audit.PodRef;
import dev.capgate.sidecar.audit.RequestIds;
import dev.capgate.sidecar.config.SidecarConfig;
import dev.capgate.sidecar.credentials.CredentialResolver;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.dns.DnsProxy;
import dev.capgate.sidecar.dns.HostAliases;
import dev.capgate.sidecar.dns.ResolvConf;
import dev.capgate.sidecar.dns.SidecarResolver;
import dev.capgate.sidecar.footprint.ExchangeActivity;
import dev.capgate.sidecar.footprint.IdleHeapRelease;
import dev.capgate.sidecar.githubapp.GitHubAppTokens;
import dev.capgate.sidecar.http.HttpServices;
import dev.capgate.sidecar.http.HttpTermination;
import dev.capgate.sidecar.http.KnownSecrets;
import dev.capgate.sidecar.intercept.ConnectionRouter;
import dev.capgate.sidecar.intercept.InterceptServer;
import dev.capgate.sidecar.intercept.OriginalDestination;
import dev.capgate.sidecar.kube.ApiClient;
import dev.capgate.sidecar.kube.ApiServer;
import dev.capgate.sidecar.limits.RequestLimits;
import dev.capgate.sidecar.oauth.OAuthResolver;
import dev.capgate.sidecar.policy.InvalidPolicyException;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.PolicySource;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.session.SessionRuntime;
import dev.capgate.sidecar.session.SessionSettings;
import dev.capgate.sidecar.tls.AgentTlsContexts;
import dev.capgate.sidecar.tls.LeafMinter;
import dev.capgate.sidecar.tls.PodCa;
import dev.capgate.sidecar.tls.UpstreamTls;
import dev.capgate.sidecar.upstream.UpstreamDialer;
import dev.capgate.sidecar.upstream.UpstreamProxy;
import dev.capgate.sidecar.vault.CredentialBroker;
import dev.capgate.sidecar.vault.KvStore;
import dev.capgate.sidecar.vault.LeaseRecorder;
import dev.capgate.sidecar.vault.TokenFile;
import dev.capgate.sidecar.vault.VaultTrust;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.socket.SocketChannel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.internal.VertxInternal;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * {@code capgate-sidecar proxy}: wires the data plane (transparent listener, DNS proxy, admin) on
 * one Vert.x instance with native epoll, then serves until SIGTERM.
 */
public final class ProxyCommand {
  private static final Logger LOG = Logger.getLogger(ProxyCommand.class.getName());

  /**
   * The least time between two idle heap releases: a pod whose agent calls every 11 s pays at most
   * one full collection (10-30 ms of CPU) per 30 s.
   */
  private static final Duration HEAP_RELEASE_MIN_INTERVAL = Duration.ofSeconds(30);

  /**
   * How much the heap must have grown since start (or the last release) for the release to run:
   * below that a full collection costs CPU and, Serial sizing the heap up to its minimum free
   * ratio, can leave more committed than before.
   */
  private static final long HEAP_RELEASE_GROWTH = 8L << 20;

  /** Start-up cannot continue; the message says what to fix. */
  public static final class StartupFailure extends RuntimeException {
    public StartupFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * All addresses: the kubelet's startup and readiness probes (httpGet /readyz on the admin port,
   * set by the webhook) come to the pod IP, not to loopback; on 127.0.0.1 the pod never gets Ready.
   * Callers from outside the pod get /healthz and /readyz status codes only; /metrics and the
   * reasons are for loopback (the pod itself), unless --admin-expose-metrics true.
   */
  public static final String DEFAULT_ADMIN_ADDRESS = "0.0.0.0";

  private final SidecarConfig config;
  private final Function<SocketChannel, Optional<InetSocketAddress>> destinations;

  public ProxyCommand(SidecarConfig config) {
    this(config, OriginalDestination::of);
  }

  /**
   * @param destinations where an accepted connection was going: {@code SO_ORIGINAL_DST} in every
   *     real run; {@link AotTraining} alone, which has no iptables, names its loopback upstream
   */
  ProxyCommand(
      SidecarConfig config, Function<SocketChannel, Optional<InetSocketAddress>> destinations) {
    this.config = config;
    this.destinations = destinations;
  }

  /** A started proxy: ready, serving until {@link #stop}. */
  public interface Running {
    /** Closes the listeners, revokes the session's Vault token (cluster mode), stops Vert.x. */
    void stop();
  }

  /**
   * Starts, then serves until SIGTERM.
   *
   * @throws IllegalArgumentException for a malformed setting (named)
   */
  public void run() throws InterruptedException {
    Running running = start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  LOG.info("stopping");
                  running.stop();
                  stopped.countDown();
                },
                "capgate-shutdown"));
    stopped.await();
  }

  /**
   * The pod of the audit lines: name and uid from the downward API (the webhook sets both), the
   * namespace the session's (the webhook admits a pod only into its session's namespace) unless
   * {@code --pod-namespace} says otherwise (a sidecar run by hand with a session file).
   */
  private PodRef podRef() {
    return new PodRef(
        config.setting(SidecarContract.ENV_POD_NAME).orElse(null),
        config
            .get("pod-namespace")
            .or(() -> config.setting(SidecarContract.ENV_SESSION_NAMESPACE))
            .orElse(null),
        config.setting(SidecarContract.ENV_POD_UID).orElse(null));
  }

  /**
   * Approvals through the API server with the sidecar's own access; none with a session file (a
   * rule asking for one then answers 503). Approvals a previous run of this pod's sidecar left
   * pending are expired first: their requests' connections died with it.
   */
  private Approvals approvals(SessionRuntime session, SessionIdentity fileSession, Vertx vertx) {
    String pod = podRef().name();
    ApiClient api;
    String namespace;
    String name;
    if (session != null) {
      api = session.api();
      namespace = session.settings().namespace();
      name = session.settings().name();
    } else if (fileSession != null && config.get("kube-api-url").isPresent()) {
      // A session file with an API server named (--kube-api-url/--kube-api-dir): approvals are
      // still asked there, under the file's session name (tests; a sidecar run by hand).
      api =
          new ApiClient(
              vertx,
              ApiServer.of(config.get("kube-api-url"), config.getPath("kube-api-dir")),
              Duration.ofSeconds(3),
              Duration.ofSeconds(10));
      namespace = fileSession.namespace();
      name = fileSession.name();
    } else {
      api = null;
      namespace = null;
      name = null;
    }
    if (api == null || pod == null) {
      return Approvals.unavailable(
          "no API access to ask for approval (no API server or no pod name)");
    }
    KubeApprovals approvals =
        new KubeApprovals(
            api,
            namespace,
            name,
            pod,
            config.getDuration("approval-poll", Duration.ofSeconds(1)),
            config.getInt("approval-max-held", 16),
            Clock.systemUTC());
    // On a virtual thread (the API client reads its token file on the caller's thread), so that
    // start-up does not wait for the API server.
    Thread.ofVirtual().name("capgate-approval-expiry").start(approvals::expireStale);
    return approvals;
  }

  /**
   * Binds everything and returns once ready (the log line and /readyz say so).
   *
   * @throws IllegalArgumentException for a malformed setting (named)
   */
  Running start() throws InterruptedException {
    SidecarPorts ports = SidecarPorts.read(config::setting);
    int proxyPort = ports.proxyPort();
    int dnsPort = ports.dnsPort();
    int adminPort = ports.adminPort();
    String adminAddress = config.get("admin-address", DEFAULT_ADMIN_ADDRESS);
    // Off by default: the metrics name the session's rules and credentials. Prometheus scraping
    // from outside the pod needs it on: the webhook sets it when the operator's chart says so
    // (sidecar.adminExposeMetrics).
    boolean exposeMetrics =
        config.getBoolean(SidecarContract.flagOf(SidecarContract.ENV_ADMIN_EXPOSE_METRICS), false);

    // Upstream TLS on its own thread while this one starts Vert.x and reads the CA and the session:
    // loading BoringSSL (netty-tcnative) and the system trust store was ~0.4 s of CPU of a ~1.1 s
    // start with the image's AOT cache, and depends on nothing else here. Ready still waits for it
    // (joined below, a failure still stops the start).
    CompletableFuture<UpstreamTls> upstreamTlsBuild =
        startThread("capgate-start-upstream-tls", this::upstreamTls);
    PolicySource policies = new PolicySource();
    // File mode: the session file's policy (Jackson binding of the spec, 140-180 ms of CPU, then
    // Policy.compile) on its own thread too, beside the native library loads and Vert.x; joined
    // before the listeners bind, so ready still means a policy is installed (or, for a file that
    // cannot be enforced, the reason on /readyz).
    CompletableFuture<SessionIdentity> sessionFileLoad =
        config.get("session-file").isPresent()
            ? startThread("capgate-start-session-file", () -> loadSessionFile(policies))
            : null;
    // One event loop per core (Vert.x's default is two): the loops never block, so more of them
    // only add thread switches between an agent connection and its upstream (same loop anyway).
    // No class-path file resolution: the sidecar serves no files, and with it Vert.x creates a
    // cache directory in java.io.tmpdir at start (a start that fails when /tmp is not writable).
    Vertx vertx =
        Vertx.vertx(
            new VertxOptions()
                .setPreferNativeTransport(true)
                .setEventLoopPoolSize(Runtime.getRuntime().availableProcessors())
                .setFileSystemOptions(
                    new FileSystemOptions()
                        .setClassPathResolvingEnabled(false)
                        .setFileCachingEnabled(false)));
    if (!vertx.isNativeTransportEnabled() || !Epoll.isAvailable()) {
      Throwable cause =
          vertx.unavailableNativeTransportCause() != null
              ? vertx.unavailableNativeTransportCause()
              : Epoll.unavailabilityCause();
      vertx.close();
      throw new StartupFailure(
          "native epoll transport unavailable ("
              + cause
              + "): the sidecar needs Linux epoll to read SO_ORIGINAL_DST",
          cause);
    }
    VertxInternal internal = (VertxInternal) vertx;
    Metrics metrics = new Metrics();
    AuditLog audit = new AuditLog(podRef());
    AuditRecorder recorder = new AuditRecorder(audit, metrics);
    RequestIds ids = new RequestIds();
    PodCa ca = loadCa();
    AgentTlsContexts agentTls =
        new AgentTlsContexts(
            new LeafMinter(ca, Clock.systemUTC()),
            Executors.newVirtualThreadPerTaskExecutor(),
            Clock.systemUTC(),
            config.getInt("leaf-cache-size", 1024),
            metrics);
    UpstreamProxy upstreamProxy = upstreamProxy();
    SessionRuntime session = null;
    GitHubAppTokens githubApps;
    SessionIdentity fileSession = null;
    UpstreamTls upstreamTls;
    if (sessionFileLoad != null) {
      fileSession = join(sessionFileLoad, "cannot load the session file");
      upstreamTls = join(upstreamTlsBuild, "cannot build upstream TLS trust");
      githubApps =
          githubAppTokens(
              withOAuth(fileModeResolver(), policies, upstreamTls), upstreamTls, upstreamProxy);
    } else {
      session = startSessionRuntime(policies, vertx);
      try {
        upstreamTls = join(upstreamTlsBuild, "cannot build upstream TLS trust");
      } catch (RuntimeException e) {
        // Built in parallel with the session's start, so that start's Vault token exists already:
        // revoke it rather than leave it to its TTL.
        session.close();
        throw e;
      }
      githubApps =
          githubAppTokens(
              withOAuth(session.credentials(), policies, upstreamTls), upstreamTls, upstreamProxy);
      // Minted tokens die with the session upstream, not only here.
      session.onSessionEnded(githubApps::endSession);
      String pod = podRef().name();
      if (pod != null) {
        // Requests and denials into the session's status (through the ledger, every 5 s).
        session.reportActivity(pod, recorder.activity()::snapshot);
      }
    }
    // GitHub App tokens, then OAuth tokens, in front of the Vault broker (which reads the App keys,
    // client secrets and refresh tokens those two need).
    CredentialResolver credentials = githubApps;
    Placeholders placeholders = loadPlaceholders();
    InetSocketAddress dnsUpstream = dnsUpstream();
    SidecarResolver resolver = sidecarResolver(dnsUpstream);
    UpstreamDialer dialer =
        new UpstreamDialer(
            resolver, config.getDuration("connect-timeout", Duration.ofSeconds(10)), upstreamProxy);
    Approvals approvals = approvals(session, fileSession, vertx);
    ExchangeActivity activity = new ExchangeActivity();
    HttpTermination http =
        new HttpTermination(
            new HttpServices(
                policies,
                credentials,
                dialer,
                upstreamTls,
                recorder,
                ids,
                metrics,
                config.getDuration("upstream-timeout", Duration.ofSeconds(120)),
                config.getDuration("idle-timeout", Duration.ofMinutes(10)),
                placeholders,
                new KnownSecrets(),
                new RequestLimits(),
                approvals,
                activity));
    ConnectionRouter router =
        new ConnectionRouter(policies, agentTls, dialer, http, recorder, placeholders);
    InterceptServer intercept =
        new InterceptServer(
            internal.acceptorEventLoopGroup(),
            internal.nettyEventLoopGroup(),
            proxyPort,
            config.getDuration("peek-timeout", Duration.ofSeconds(5)),
            router,
            ids,
            destinations);
    policies.onRevocation(intercept::closeAllConnections);
    DnsProxy dns =
        new DnsProxy(
            (io.netty.channel.EventLoop) internal.nettyEventLoopGroup().next(),
            dnsPort,
            dnsUpstream,
            policies,
            recorder,
            ids,
            placeholders);

    AtomicBoolean listening = new AtomicBoolean();
    AdminServer admin =
        new AdminServer(
            vertx,
            adminAddress,
            adminPort,
            metrics,
            () -> {
              if (!listening.get()) {
                return "listeners not bound yet";
              }
              return policies.problem();
            },
            new AdminAccess(exposeMetrics));

    await("transparent listener on port " + proxyPort, intercept.start());
    await("DNS proxy on port " + dnsPort, dns.start());
    try {
      admin.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new StartupFailure(
          "cannot bind the admin server on "
              + adminAddress
              + ":"
              + adminPort
              + ": "
              + e.getMessage(),
          e);
    }
    listening.set(true);
    releaseHeapWhenIdle(vertx, activity);
    // After ready, not before: the first mint of a JVM (Bouncy Castle and JSSE class loading, JIT)
    // took 0.7 s of a 1.2 s start and competed for the pod's CPU with the start itself. Readiness
    // promises bound listeners and a policy; a first agent connection that arrives during the
    // warm-up waits for that mint at most, as it would have waited before.
    agentTls
        .warmUp()
        .exceptionally(
            e -> {
              // Not fatal: the mint is retried (and fails clearly) on the first intercepted
              // connection.
              LOG.warning("leaf warm-up failed: " + e.getMessage());
              return null;
            });
    LOG.info(
        "capgate sidecar ready: proxy :"
            + proxyPort
            + ", dns :"
            + dnsPort
            + ", admin "
            + adminAddress
            + ":"
            + adminPort
            + (policies.current().isPresent()
                ? ""
                : " (NO VALID POLICY: denying everything: " + policies.problem() + ")"));

    SessionRuntime sessionToClose = session;
    return () -> {
      intercept.stop();
      dns.stop();
      resolver.close();
      admin.stop();
      // Revokes every GitHub installation token minted (before the Vault token goes: not needed
      // for it, but the order of what was obtained with what).
      githubApps.close();
      if (sessionToClose != null) {
        // Revokes the sidecar's Vault token and leases: this pod is done with them.
        sessionToClose.close();
      }
      vertx
          .close()
          .toCompletionStage()
          .toCompletableFuture()
          .completeOnTimeout(null, 5, TimeUnit.SECONDS)
          .join();
      audit.close();
    };
  }

  /** Runs {@code step} on a platform thread of its own, a daemon: a start step that can overlap. */
  private static <T> CompletableFuture<T> startThread(String name, Supplier<T> step) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Thread.ofPlatform()
        .name(name)
        .daemon()
        .start(
            () -> {
              try {
                result.complete(step.get());
              } catch (Throwable e) {
                result.completeExceptionally(e);
              }
            });
    return result;
  }

  /**
   * Gives the heap back once the sidecar is quiet after being busy ({@link IdleHeapRelease}):
   * Serial GC keeps whatever the busiest moment grew it to otherwise. Looked at once a second from
   * an event-loop timer (a cheap look); the collection itself runs on a virtual thread. {@code
   * --heap-release-after 0s} turns it off.
   */
  private void releaseHeapWhenIdle(Vertx vertx, ExchangeActivity activity) {
    Duration quiet = config.getDuration("heap-release-after", Duration.ofSeconds(10));
    if (quiet.isZero() || quiet.isNegative()) {
      return;
    }
    IdleHeapRelease release =
        new IdleHeapRelease(
            activity,
            quiet,
            HEAP_RELEASE_MIN_INTERVAL,
            IdleHeapRelease::fullGc,
            IdleHeapRelease.OFF_EVENT_LOOP,
            Runtime.getRuntime()::totalMemory,
            HEAP_RELEASE_GROWTH,
            System.nanoTime());
    vertx.setPeriodic(1000, id -> release.tick(System.nanoTime()));
  }

  /**
   * The result of a step run on its start thread; its failure (e.g. a StartupFailure naming the
   * bundle) is the start's, as when the step ran on this thread.
   */
  private static <T> T join(CompletableFuture<T> step, String what) {
    try {
      return step.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw new StartupFailure(what + ": " + e.getCause(), e.getCause());
    }
  }

  /**
   * Cluster mode (the default): the live AgentSession named by CAPGATE_SESSION_NAMESPACE/NAME,
   * watched through the API server, with a Vault token for this session alone obtained through the
   * operator (CAPGATE_OPERATOR_URL, see {@code OperatorLogin}).
   */
  private SessionRuntime startSessionRuntime(PolicySource policies, Vertx vertx) {
    try {
      return SessionRuntime.start(
          SessionSettings.from(config),
          policies,
          vertx,
          ApiServer.of(config.get("kube-api-url"), config.getPath("kube-api-dir")));
    } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
      throw new StartupFailure("cannot start the session watch: " + e.getMessage(), e);
    }
  }

  /**
   * File mode ({@code --session-file}): one fixed AgentSession (or spec) from JSON, for local runs
   * and the data-plane tests. A spec that cannot be enforced leaves the sidecar up and denying
   * everything, with the reason on /readyz.
   */
  /** The file's session, or null when it could not be loaded (everything is then denied). */
  private SessionIdentity loadSessionFile(PolicySource policies) {
    Path file = config.getPath("session-file").orElseThrow();
    try {
      SessionFile.Loaded loaded =
          SessionFile.load(
              file,
              config.get("session-namespace", "default"),
              config.get("session-name", "unnamed"));
      policies.install(Policy.compile(loaded.identity(), loaded.spec()));
      LOG.info(
          "policy loaded from "
              + file
              + " for session "
              + loaded.identity().namespace()
              + "/"
              + loaded.identity().name());
      return loaded.identity();
    } catch (InvalidPolicyException | java.io.IOException e) {
      LOG.severe(e.getMessage());
      policies.revoke(e.getMessage());
      return null;
    }
  }

  /** {@code CAPGATE_CA_DIR} holds ca.crt and ca.key; each file can also be named on its own. */
  private PodCa loadCa() {
    Path dir = caDir();
    Path cert = config.getPath("ca-cert").orElse(dir.resolve(SidecarContract.CA_CERT));
    Path key = config.getPath("ca-key").orElse(dir.resolve(SidecarContract.CA_KEY));
    try {
      return PodCa.load(cert, key);
    } catch (java.io.IOException e) {
      throw new StartupFailure("cannot load the pod CA: " + e.getMessage(), e);
    }
  }

  /** The pod CA's directory, where the webhook mounts it unless told otherwise. */
  private Path caDir() {
    return Path.of(config.setting(SidecarContract.ENV_CA_DIR).orElse(SidecarContract.CA_DIR));
  }

  /**
   * OAuth credentials in front of the Vault broker: token endpoints are trusted like upstreams (the
   * one trust store {@code upstreamTls} parsed), and the refresh tokens live in (and are rotated
   * back into) Vault with the broker's token.
   */
  private static CredentialResolver withOAuth(
      CredentialResolver vault, PolicySource policies, UpstreamTls upstreamTls) {
    KvStore kv = vault instanceof CredentialBroker broker ? broker.kvStore() : null;
    return OAuthResolver.wrap(vault, kv, policies, upstreamTls.jdkContext());
  }

  private List<Path> upstreamCaBundles() {
    List<Path> bundles = new ArrayList<>();
    config.setting(SidecarContract.ENV_UPSTREAM_CA_FILE).map(Path::of).ifPresent(bundles::add);
    return bundles;
  }

  private UpstreamTls upstreamTls() {
    List<Path> bundles = upstreamCaBundles();
    // A TLS-inspecting egress proxy re-signs origin certificates with its own CA.
    config.getPath("upstream-proxy-ca-file").ifPresent(bundles::add);
    try {
      return UpstreamTls.create(bundles);
    } catch (Exception e) {
      throw new StartupFailure("cannot build upstream TLS trust: " + e.getMessage(), e);
    }
  }

  /**
   * {@code CAPGATE_UPSTREAM_PROXY} (host:port): the HTTP CONNECT proxy the sidecar's outbound
   * connections go through (corporate egress), with {@code CAPGATE_UPSTREAM_PROXY_AUTH_FILE}
   * (user:password) when it wants Basic proxy credentials.
   */
  private UpstreamProxy upstreamProxy() {
    Optional<String> spec = config.get("upstream-proxy");
    if (spec.isEmpty()) {
      return null;
    }
    try {
      UpstreamProxy proxy =
          UpstreamProxy.parse(spec.get(), config.getPath("upstream-proxy-auth-file").orElse(null));
      LOG.info("outbound connections go through the HTTP CONNECT proxy " + proxy);
      return proxy;
    } catch (IllegalArgumentException e) {
      throw new StartupFailure("bad upstream proxy settings: " + e.getMessage(), e);
    }
  }

  /**
   * {@code placeholders.json} of the CA directory (or {@code --placeholders-file}): absent means no
   * placeholders; unreadable means every request that carries something like a placeholder is
   * refused (fail closed), while the rest of the traffic goes on.
   */
  private Placeholders loadPlaceholders() {
    Path file =
        config
            .getPath("placeholders-file")
            .orElseGet(() -> caDir().resolve(SidecarContract.PLACEHOLDERS_FILE));
    Placeholders placeholders = Placeholders.load(file);
    if (placeholders.problem().isPresent()) {
      LOG.severe(
          "placeholder credentials unusable: "
              + placeholders.problem().get()
              + ": requests carrying anything that looks like a placeholder (capgate-ph-...) are refused");
    } else if (!placeholders.isEmpty()) {
      LOG.info("placeholder credentials for " + placeholders.credentials());
    }
    return placeholders;
  }

  /**
   * GitHub App credentials in front of the others: tokens minted with the App's key (read through
   * {@code others}, the broker), over the upstreams' TLS trust (so a private upstream CA works).
   */
  private GitHubAppTokens githubAppTokens(
      CredentialResolver others, UpstreamTls upstreamTls, UpstreamProxy proxy) {
    if (proxy != null && proxy.authenticates()) {
      LOG.warning(
          "GitHub App token requests go through the upstream proxy without its credentials"
              + " (not supported for them yet): a proxy that wants them will refuse the mint");
    }
    return new GitHubAppTokens(
        others,
        upstreamTls.jdkContext(),
        GitHubAppTokens.DEFAULT_TIMEOUT,
        proxy == null
            ? null
            : java.net.InetSocketAddress.createUnresolved(proxy.host(), proxy.port()),
        Clock.systemUTC());
  }

  /**
   * File mode's credentials: the same {@link CredentialBroker} as cluster mode, on Vault at {@code
   * --vault-addr} (trusting {@code --vault-ca} or {@code --vault-ca-file} when given, see {@link
   * VaultTrust}) with a static token read from {@code --vault-static-token-file} instead of the
   * session's own identity obtained through the operator. No lease ledger: there is no session
   * object to write it to.
   */
  private CredentialResolver fileModeResolver() {
    String address = config.get("vault-addr").or(() -> config.get("vault-address")).orElse(null);
    Path tokenFile = config.getPath("vault-static-token-file").orElse(null);
    if (address == null || tokenFile == null) {
      LOG.warning(
          "no --vault-addr and --vault-static-token-file: requests on routes with a credential will be answered 503");
      return (credential, session) ->
          CompletableFuture.failedFuture(
              new CredentialUnavailableException(credential.name(), "no Vault configured"));
    }
    Duration timeout = config.getDuration("vault-timeout", Duration.ofSeconds(5));
    VaultClient vault =
        VaultTrust.client(
            address,
            config.setting(SidecarContract.ENV_VAULT_CA).orElse(null),
            config.getPath("vault-ca-file").orElse(null),
            timeout);
    return new CredentialBroker(
        vault,
        new TokenFile(tokenFile),
        LeaseRecorder.NONE,
        config.getDuration("kv-cache-ttl", CredentialBroker.DEFAULT_KV_CACHE_TTL),
        Clock.systemUTC());
  }

  /**
   * The resolver of every name the sidecar dials: {@code CAPGATE_HOST_ALIASES} (the pod spec's
   * hostAliases, passed by the webhook), then DNS at {@code dnsUpstream} with the search list and
   * ndots of resolv.conf. The pod's /etc/hosts is never read: agents share that file.
   */
  private SidecarResolver sidecarResolver(InetSocketAddress dnsUpstream) {
    HostAliases aliases;
    try {
      aliases = HostAliases.parse(config.setting(SidecarContract.ENV_HOST_ALIASES).orElse(""));
    } catch (IllegalArgumentException e) {
      throw new StartupFailure(
          "bad " + SidecarContract.ENV_HOST_ALIASES + ": " + e.getMessage(), e);
    }
    Path resolvConf = Path.of(config.get("resolv-conf", "/etc/resolv.conf"));
    List<String> search = List.of();
    int ndots = 1;
    if (java.nio.file.Files.isReadable(resolvConf)) {
      try {
        search = ResolvConf.searchDomains(resolvConf);
        ndots = ResolvConf.ndots(resolvConf);
      } catch (java.io.IOException e) {
        throw new StartupFailure("cannot read resolv.conf: " + e.getMessage(), e);
      }
    }
    if (!aliases.isEmpty()) {
      LOG.info("host aliases of the pod spec apply to the sidecar's own lookups");
    }
    return new SidecarResolver(aliases, dnsUpstream, search, ndots);
  }

  private InetSocketAddress dnsUpstream() {
    return config
        .get("dns-upstream")
        .map(ResolvConf::parseAddress)
        .orElseGet(
            () -> {
              try {
                return ResolvConf.firstNameserver(
                        Path.of(config.get("resolv-conf", "/etc/resolv.conf")))
                    .orElseThrow(
                        () ->
                            new StartupFailure(
                                "no nameserver in resolv.conf and no --dns-upstream", null));
              } catch (java.io.IOException e) {
                throw new StartupFailure("cannot read resolv.conf: " + e.getMessage(), e);
              }
            });
  }

  private static void await(String what, io.netty.util.concurrent.Future<?> future)
      throws InterruptedException {
    if (!future.await(10, TimeUnit.SECONDS) || !future.isSuccess()) {
      Throwable cause = future.cause();
      throw new StartupFailure(
          "cannot bind the " + what + ": " + (cause == null ? "timed out" : cause.getMessage()),
          cause);
    }
  }
}
