package dev.capgate.sidecar.tls;

import dev.capgate.sidecar.admin.Metrics;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.prometheus.metrics.core.metrics.Histogram;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The server-side TLS the agent talks to, one {@link SslContext} per intercepted host, holding a
 * leaf minted from the pod CA. ALPN offers h2 and http/1.1.
 *
 * <p>Minting runs on a virtual thread, never on an event loop: the first mint after start-up takes
 * tens of milliseconds (class loading, JIT), later ones a fraction of one (see LeafMinterTest); a
 * hop to another thread costs microseconds, so the rule is simply "always off the loop".
 *
 * <p>The contexts run on BoringSSL when it loads, on the JDK engine otherwise or when asked for
 * ({@link TlsEngine#forAgentSide()}).
 */
public final class AgentTlsContexts {
  private static final java.util.logging.Logger LOG =
      java.util.logging.Logger.getLogger(AgentTlsContexts.class.getName());
  private static final ApplicationProtocolConfig ALPN =
      new ApplicationProtocolConfig(
          ApplicationProtocolConfig.Protocol.ALPN,
          ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
          ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
          ApplicationProtocolNames.HTTP_2,
          ApplicationProtocolNames.HTTP_1_1);
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private final LeafMinter minter;
  private final Executor mintExecutor;
  private final SingleFlightCache<Minted> cache;
  private final Histogram mintSeconds;

  /** A leaf's server context and when to renew it. */
  record Minted(SslContext context, Instant notBefore, Instant notAfter) {
    /** Renewed at half life: agents never see a leaf near its end. */
    Instant staleAt() {
      return notBefore.plus(Duration.between(notBefore, notAfter).dividedBy(2));
    }
  }

  public AgentTlsContexts(
      LeafMinter minter, Executor mintExecutor, Clock clock, int maxCached, Metrics metrics) {
    this.minter = minter;
    this.mintExecutor = mintExecutor;
    this.mintSeconds =
        metrics.secondsHistogram(
            "capgate_leaf_mint_seconds", "Time to mint a leaf and build its TLS context");
    this.cache =
        new SingleFlightCache<>(this::mint, Minted::staleAt, mintExecutor, clock, maxCached);
    metrics.gauge("capgate_cert_cache_size", "Leaf certificates cached", cache::size);
    metrics.counterFunction(
        "capgate_cert_cache_hits_total", "Leaf lookups served from the cache", cache::hits);
    metrics.counterFunction(
        "capgate_cert_cache_misses_total", "Leaf lookups that minted", cache::misses);
  }

  /** The context for {@code host}; completes off the event loop on a miss. */
  public CompletableFuture<SslContext> forHost(String host) {
    return cache.get(host).thenApply(Minted::context);
  }

  /**
   * Mints one throwaway leaf, right after the sidecar reports ready: the first mint of a JVM costs
   * hundreds of milliseconds (class loading, JIT, JSSE set-up), which an agent should not pay on
   * its first connection, and which the sidecar's readiness should not wait for either.
   */
  public CompletableFuture<Void> warmUp() {
    return CompletableFuture.runAsync(() -> mint("warm-up.capgate.invalid"), mintExecutor);
  }

  private Minted mint(String host) {
    long t0 = System.nanoTime();
    Leaf leaf = minter.mint(host);
    long minted = System.nanoTime();
    try {
      SslProvider provider = TlsEngine.forAgentSide();
      SslContext context =
          provider == SslProvider.JDK
              ? jdkContext(leaf)
              : SslContextBuilder.forServer(leaf.key(), leaf.certificate(), leaf.issuer())
                  .sslProvider(provider)
                  .protocols(PROTOCOLS)
                  .applicationProtocolConfig(ALPN)
                  .build();
      TlsEngine.enableTickets(context);
      double seconds = (System.nanoTime() - t0) / 1e9;
      mintSeconds.observe(seconds);
      LOG.info(
          String.format(
              "leaf for %s minted in %.2f ms (certificate %.2f ms)",
              host, seconds * 1e3, (minted - t0) / 1e6));
      return new Minted(context, leaf.certificate().getNotBefore().toInstant(), leaf.notAfter());
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(
          "could not build a TLS context for " + host + ": " + e.getMessage(), e);
    }
  }

  /**
   * What {@code SslContextBuilder.forServer(...).sslProvider(JDK).build()} builds (a PKCS12 key
   * store holding the leaf and its issuer, the default key manager, JSSE's "TLS" context, Netty's
   * default cipher suites, the same protocols and ALPN), made here instead: Netty's {@code
   * JdkSslServerContext} parses a test key when its class initializes, and with Bouncy Castle's
   * PKIX jar on the class path it does so through a new {@code BouncyCastleProvider}: ~380 classes
   * (the provider's whole algorithm table, Bouncy Castle's curve arithmetic) and its service table
   * on the heap, in every sidecar, for a key nobody uses (sidecar/README.md, "Footprint").
   */
  private static SslContext jdkContext(Leaf leaf) throws GeneralSecurityException, IOException {
    char[] noPassword = new char[0];
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry(
        "leaf", leaf.key(), noPassword, new X509Certificate[] {leaf.certificate(), leaf.issuer()});
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, noPassword);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(keys.getKeyManagers(), null, null);
    return new JdkSslContext(
        tls,
        false,
        null,
        IdentityCipherSuiteFilter.INSTANCE,
        ALPN,
        ClientAuth.NONE,
        PROTOCOLS,
        false);
  }
}
