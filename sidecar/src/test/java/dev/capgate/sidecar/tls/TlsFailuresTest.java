package dev.capgate.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class TlsFailuresTest {
  @Test
  void an_untrusted_upstream_certificate_is_a_failed_verification() {
    SSLHandshakeException e =
        new SSLHandshakeException(
            "PKIX path building failed: "
                + "sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target");
    assertThat(TlsFailures.describeUpstream(e))
        .startsWith("certificate verify failed")
        .contains("not issued by a CA");
  }

  @Test
  void a_name_mismatch_is_a_failed_verification() {
    SSLHandshakeException e =
        new SSLHandshakeException("No subject alternative DNS name matching api.test found.");
    assertThat(TlsFailures.describeUpstream(e))
        .isEqualTo("certificate verify failed: the upstream's certificate does not name the host");
  }

  @Test
  void alerts_are_named_and_mutual_tls_is_recognised_through_wrappers() {
    Throwable e =
        new DecoderException(
            new SSLException("(certificate_required) Received fatal alert: certificate_required"));
    assertThat(TlsFailures.isTls(e)).isTrue();
    assertThat(TlsFailures.receivedAlert(e)).isEqualTo("certificate_required");
    assertThat(TlsFailures.describeUpstream(e))
        .contains("requires a client certificate (mutual TLS)");
    assertThat(
            TlsFailures.receivedAlert(
                new SSLHandshakeException("Received fatal alert: unknown_ca")))
        .isEqualTo("unknown_ca");
    // What the JDK says when OpenSSL (curl, Python) refuses the server certificate under TLS 1.3.
    assertThat(
            TlsFailures.receivedAlert(
                new javax.net.ssl.SSLProtocolException(
                    "Unexpected exception",
                    new java.security.GeneralSecurityException(
                        "Unexpected plaintext alert received: Level: fatal; Alert: unknown_ca"))))
        .isEqualTo("unknown_ca");
    // BoringSSL's words for the same alerts (the sidecar's engine when netty-tcnative loads).
    assertThat(
            TlsFailures.receivedAlert(
                new SSLHandshakeException(
                    "error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA")))
        .isEqualTo("unknown_ca");
    assertThat(
            TlsFailures.receivedAlert(
                new SSLHandshakeException(
                    "error:10000412:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE")))
        .isEqualTo("bad_certificate");
    assertThat(
            TlsFailures.describeUpstream(
                new SSLHandshakeException(
                    "error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED")))
        .contains("requires a client certificate (mutual TLS)");
  }

  @Test
  void closes_and_timeouts() {
    assertThat(TlsFailures.closedDuringHandshake(new ClosedChannelException())).isTrue();
    assertThat(
            TlsFailures.describeUpstream(
                new SSLException(
                    "Connection closed while SSL/TLS handshake was in progress",
                    new ClosedChannelException())))
        .isEqualTo("the upstream closed the connection during the handshake");
    assertThat(
            TlsFailures.describeUpstream(
                new SslHandshakeTimeoutException("handshake timed out after 10000ms")))
        .isEqualTo("the handshake timed out");
    assertThat(TlsFailures.isTls(new java.io.IOException("Connection refused"))).isFalse();
  }
}
