package dev.capgate.sidecar.tls;

import dev.capgate.sidecar.admin.Metrics;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.prometheus.metrics.core.metrics.Histogram;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLException;

/**
 * The server-side TLS the agent talks to, one {@link SslContext} per intercepted host, holding a
 * leaf minted from the pod CA. ALPN offers h2 and http/1.1.
 *
 * <p>Minting runs on a virtual thread, never on an event loop: the first mint after start-up takes
 * tens of milliseconds (class loading, JIT), later ones a fraction of one (see LeafMinterTest); a
 * hop to another thread costs microseconds, so the rule is simply "always off the loop".
 *
 * <p>The contexts run on the JDK engine unless BoringSSL is asked for ({@link
 * TlsEngine#forAgentSide()}).
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
      SslContext context =
          SslContextBuilder.forServer(leaf.key(), leaf.certificate(), leaf.issuer())
              .sslProvider(TlsEngine.forAgentSide())
              .protocols("TLSv1.3", "TLSv1.2")
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
    } catch (SSLException e) {
      throw new IllegalStateException(
          "could not build a TLS context for " + host + ": " + e.getMessage(), e);
    }
  }
}
