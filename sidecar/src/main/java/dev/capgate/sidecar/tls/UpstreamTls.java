package dev.capgate.sidecar.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * TLS from the sidecar to the real server: the server must prove it is the approved host name
 * (hostname verification on, SNI = that name) against the system trust store plus an optional extra
 * bundle for private upstreams. The sidecar speaks HTTP/1.1 upstream, and HTTP/2 for gRPC calls (a
 * context of its own whose ALPN offers only h2).
 *
 * <p>BoringSSL when it loads ({@link TlsEngine}): the trust manager is still the JDK's (PKIX with
 * the same roots) and so is the host name check ({@code HTTPS} endpoint identification), which
 * Netty's OpenSSL engine hands to that trust manager. Sessions are cached per host and port.
 */
public final class UpstreamTls {
  private static final ApplicationProtocolConfig HTTP_1_1 =
      new ApplicationProtocolConfig(
          ApplicationProtocolConfig.Protocol.ALPN,
          ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
          ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
          ApplicationProtocolNames.HTTP_1_1);

  /** gRPC calls only (issue 16 §6): gRPC needs HTTP/2, an upstream that does not offer it fails. */
  private static final ApplicationProtocolConfig HTTP_2 =
      new ApplicationProtocolConfig(
          ApplicationProtocolConfig.Protocol.ALPN,
          ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
          ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
          ApplicationProtocolNames.HTTP_2);

  private final SslContext context;
  private final SslContext h2Context;
  private final TrustManagerFactory trust;

  private UpstreamTls(SslContext context, SslContext h2Context, TrustManagerFactory trust) {
    this.context = context;
    this.h2Context = h2Context;
    this.trust = trust;
  }

  /**
   * @param extraCaBundle PEM certificates trusted in addition to the system store, or null
   */
  public static UpstreamTls create(Path extraCaBundle)
      throws IOException, GeneralSecurityException {
    return create(extraCaBundle == null ? List.of() : List.of(extraCaBundle));
  }

  /**
   * @param extraCaBundles PEM bundles trusted in addition to the system store: private upstream CAs
   *     ({@code --upstream-ca-file}) and the CA a TLS-inspecting egress proxy re-signs origin
   *     certificates with ({@code --upstream-proxy-ca-file})
   */
  public static UpstreamTls create(List<Path> extraCaBundles)
      throws IOException, GeneralSecurityException {
    TrustManagerFactory tmf = trust(extraCaBundles);
    SslContext context = clientContext(tmf, HTTP_1_1);
    SslContext h2Context = clientContext(tmf, HTTP_2);
    return new UpstreamTls(context, h2Context, tmf);
  }

  private static SslContext clientContext(TrustManagerFactory tmf, ApplicationProtocolConfig alpn)
      throws IOException {
    SslContext context =
        SslContextBuilder.forClient()
            .sslProvider(TlsEngine.forLongLivedContext())
            .trustManager(tmf)
            .endpointIdentificationAlgorithm("HTTPS")
            .protocols("TLSv1.3", "TLSv1.2")
            .applicationProtocolConfig(alpn)
            .build();
    // Resumption across the connections to one upstream (host:port): a new agent connection's
    // upstream handshake skips the certificate chain and its verification.
    TlsEngine.enableTickets(context);
    return context;
  }

  /**
   * The same trust for the sidecar's own HTTPS calls on the JDK's client (a GitHub App's token
   * requests): an upstream the agent reaches is trusted there too, and nothing more.
   */
  public javax.net.ssl.SSLContext jdkContext() {
    try {
      javax.net.ssl.SSLContext jdk = javax.net.ssl.SSLContext.getInstance("TLS");
      jdk.init(null, trust.getTrustManagers(), null);
      return jdk;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a TLS context: " + e.getMessage(), e);
    }
  }

  /**
   * The system store plus {@code extraCaBundles}: what the sidecar trusts for upstreams, and for
   * the other HTTPS servers it calls itself on the session's behalf (an OAuth token endpoint).
   */
  public static TrustManagerFactory trust(List<Path> extraCaBundles)
      throws IOException, GeneralSecurityException {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    TrustManagerFactory system =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    system.init((KeyStore) null);
    int n = 0;
    for (var tm : system.getTrustManagers()) {
      if (tm instanceof X509TrustManager x509) {
        for (X509Certificate ca : x509.getAcceptedIssuers()) {
          trust.setCertificateEntry("system-" + n++, ca);
        }
      }
    }
    for (Path extraCaBundle : extraCaBundles) {
      try (InputStream in = Files.newInputStream(extraCaBundle)) {
        Collection<? extends Certificate> extra =
            CertificateFactory.getInstance("X.509").generateCertificates(in);
        if (extra.isEmpty()) {
          throw new IOException("extra CA bundle " + extraCaBundle + " holds no PEM certificate");
        }
        for (Certificate ca : extra) {
          trust.setCertificateEntry("extra-" + n++, ca);
        }
      }
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    return tmf;
  }

  /** A client handler that sends SNI = {@code host} and verifies the certificate names it. */
  public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
    return context.newHandler(alloc, host, port);
  }

  /** As {@link #newHandler}, offering only {@code h2} in ALPN: for gRPC calls (HTTP/2 only). */
  public SslHandler newH2Handler(ByteBufAllocator alloc, String host, int port) {
    return h2Context.newHandler(alloc, host, port);
  }
}
