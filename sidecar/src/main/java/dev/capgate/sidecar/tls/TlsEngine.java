package dev.capgate.sidecar.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Which TLS engine the sidecar uses: BoringSSL through netty-tcnative when its native library loads
 * (the image is Debian glibc x86_64, the platform of the shipped library), the JDK's {@code
 * SSLEngine} otherwise. The JDK engine allocated a new GCM cipher, GHASH state and buffer wrappers
 * per TLS record (41 % of the sidecar's allocation under load, sidecar/README.md "TLS engine");
 * BoringSSL seals and opens records in native memory with no per-record garbage. Both sides use it;
 * the agent side can be kept on the JDK engine ({@link #forAgentSide()}).
 *
 * <p>The system property {@code capgate.tls.engine} ({@code auto}, the default; {@code jdk}; {@code
 * openssl}, which refuses to start without the native library) exists for A/B measurements and
 * tests; pods do not set it. The choice is logged once, with the reason when it falls back.
 */
public final class TlsEngine {
  private static final Logger LOG = Logger.getLogger(TlsEngine.class.getName());
  private static final AtomicBoolean LOGGED = new AtomicBoolean();

  private TlsEngine() {}

  /** Whether the sidecar's TLS runs on BoringSSL. */
  public static boolean openSsl() {
    String wanted = System.getProperty("capgate.tls.engine", "auto").toLowerCase(Locale.ROOT);
    boolean available = OpenSsl.isAvailable();
    boolean use =
        switch (wanted) {
          case "jdk" -> false;
          case "openssl" -> {
            if (!available) {
              throw new IllegalStateException(
                  "capgate.tls.engine=openssl but netty-tcnative cannot load: "
                      + OpenSsl.unavailabilityCause());
            }
            yield true;
          }
          default -> available;
        };
    if (LOGGED.compareAndSet(false, true)) {
      if (use) {
        LOG.info(
            "TLS engine: "
                + OpenSsl.versionString()
                + " (netty-tcnative), upstream side"
                + (agentSideOnJdk()
                    ? "; agent side on the JDK (capgate.tls.agent-engine=jdk)"
                    : " and agent side"));
      } else if (wanted.equals("jdk")) {
        LOG.info("TLS engine: JDK (capgate.tls.engine=jdk)");
      } else {
        Throwable why = OpenSsl.unavailabilityCause();
        LOG.warning(
            "TLS engine: JDK, the native BoringSSL library did not load ("
                + (why == null ? "unknown reason" : why.toString())
                + "); TLS works the same, with more CPU and allocation per record");
      }
    }
    return use;
  }

  /**
   * The provider for a context the sidecar keeps for its whole life (the upstream client): engines
   * are reference-counted and released by their {@code SslHandler}, without a finalizer each.
   */
  static SslProvider forLongLivedContext() {
    return openSsl() ? SslProvider.OPENSSL_REFCNT : SslProvider.JDK;
  }

  /**
   * The provider for the agent side's per-host leaf contexts, which a cache may drop while
   * connections still use them (the native memory is then freed by the garbage collector, never
   * under a connection that still holds it). BoringSSL when it loads, like the upstream side;
   * {@code capgate.tls.agent-engine=jdk} keeps the agent side on the JDK engine (A/B runs, and a
   * way back should an agent's client misbehave with it; sidecar/README.md "TLS engine").
   */
  static SslProvider forAgentSide() {
    return !agentSideOnJdk() && openSsl() ? SslProvider.OPENSSL : SslProvider.JDK;
  }

  private static boolean agentSideOnJdk() {
    return "jdk".equalsIgnoreCase(System.getProperty("capgate.tls.agent-engine", "auto"));
  }

  /**
   * Turns on session tickets (TLS 1.2 tickets, TLS 1.3 resumption) on a BoringSSL context, which
   * Netty leaves off by default: the JDK engine issues and accepts them, so agents and upstreams
   * see the same resumption as before. The keys are random per context and live in memory only.
   */
  static void enableTickets(SslContext context) {
    if (context.sessionContext() instanceof OpenSslSessionContext openSsl) {
      SecureRandom random = new SecureRandom();
      byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
      byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
      byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
      random.nextBytes(name);
      random.nextBytes(hmac);
      random.nextBytes(aes);
      openSsl.setTicketKeys(new OpenSslSessionTicketKey(name, hmac, aes));
    }
  }
}
