package dev.capgate.sidecar.tls;

import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * Turns a TLS failure into a short, plain reason for audit lines and error bodies: "certificate
 * verify failed: ...", "the upstream requires a client certificate (mutual TLS)", "the agent sent
 * alert unknown_ca", and so on. The JDK's messages are informative but long and uneven; these are
 * the handful of cases operators meet, with the JDK's message kept as a fallback. None of them
 * carries secret material (they name hosts, alerts and certificate problems).
 */
public final class TlsFailures {
  private static final java.util.regex.Pattern BORINGSSL_ALERT =
      java.util.regex.Pattern.compile("(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z0-9_]+)");

  private TlsFailures() {}

  /** Whether {@code cause} (or what it wraps) is a TLS failure. */
  public static boolean isTls(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof SSLException || t instanceof SslHandshakeTimeoutException) {
        return true;
      }
    }
    return false;
  }

  /**
   * The alert the peer sent ("unknown_ca", "certificate_required", ...), or null. The JDK says
   * "Received fatal alert: x", or, for an alert a TLS 1.3 client sends before it has keys (OpenSSL
   * refusing the server's certificate), "Unexpected plaintext alert received: Level: fatal; Alert:
   * x". BoringSSL (the sidecar's engine when it loads) says "error:...:TLSV1_ALERT_X" (also {@code
   * SSLV3_ALERT_}, {@code TLSV13_ALERT_}), the same names in capitals.
   */
  public static String receivedAlert(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (m != null) {
        java.util.regex.Matcher boring = BORINGSSL_ALERT.matcher(m);
        if (boring.find()) {
          return boring.group(1).toLowerCase(Locale.ROOT);
        }
        for (String marker :
            new String[] {"Received fatal alert: ", "alert received: Level: fatal; Alert: "}) {
          int at = m.indexOf(marker);
          if (at >= 0) {
            String alert = m.substring(at + marker.length()).strip();
            int end = 0;
            while (end < alert.length()
                && (Character.isLetterOrDigit(alert.charAt(end)) || alert.charAt(end) == '_')) {
              end++;
            }
            return alert.substring(0, end);
          }
        }
      }
    }
    return null;
  }

  /** Whether the peer closed the connection in the middle of the handshake (no alert). */
  public static boolean closedDuringHandshake(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof ClosedChannelException) {
        return true;
      }
      String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      if (m.contains("connection closed")
          || m.contains("connection reset")
          || m.contains("closed while")
          || m.contains("remote host terminated")) {
        return true;
      }
    }
    return false;
  }

  /** Why the sidecar's own TLS to an upstream failed, in a few words. */
  public static String describeUpstream(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof SslHandshakeTimeoutException) {
        return "the handshake timed out";
      }
      if (t instanceof CertificateExpiredException
          || t instanceof CertificateNotYetValidException) {
        return "certificate verify failed: the upstream's certificate is expired or not yet valid";
      }
      if (t instanceof CertPathValidatorException) {
        return "certificate verify failed: the upstream's certificate chain does not validate ("
            + firstLine(t.getMessage())
            + ")";
      }
      String m = t.getMessage() == null ? "" : t.getMessage();
      if (m.contains("unable to find valid certification path")
          || m.contains("PKIX path building failed")) {
        return "certificate verify failed: the upstream's certificate is not issued by a CA the sidecar trusts";
      }
      if (m.contains("No subject alternative") || m.contains("No name matching")) {
        return "certificate verify failed: the upstream's certificate does not name the host";
      }
    }
    String alert = receivedAlert(cause);
    if (alert != null) {
      return switch (alert) {
        case "certificate_required" ->
            "the upstream requires a client certificate (mutual TLS): alert certificate_required";
        case "bad_certificate" ->
            "the upstream rejected the client certificate (mutual TLS?): alert bad_certificate";
        case "handshake_failure" ->
            "the upstream refused the handshake (alert handshake_failure): it may require a"
                + " client certificate or TLS parameters the sidecar does not offer";
        case "protocol_version" ->
            "no TLS version in common with the upstream (alert protocol_version)";
        default -> "the upstream sent alert " + alert;
      };
    }
    if (closedDuringHandshake(cause)) {
      return "the upstream closed the connection during the handshake";
    }
    return "TLS error: " + firstLine(rootMessage(cause));
  }

  /**
   * "Type: message <- Type: message" for up to three causes, for failures none of the cases above
   * names.
   */
  public static String chain(Throwable cause) {
    StringBuilder out = new StringBuilder();
    int n = 0;
    for (Throwable t = cause; t != null && n < 3; t = t.getCause(), n++) {
      if (n > 0) {
        out.append(" <- ");
      }
      out.append(t.getClass().getSimpleName());
      if (t.getMessage() != null) {
        out.append(": ").append(firstLine(t.getMessage()));
      }
    }
    return out.toString();
  }

  /** What the agent reads when the sidecar's TLS to {@code where} failed: why, and the way out. */
  public static String upstreamAdvice(String where, String why) {
    return "The sidecar re-originates TLS to "
        + where
        + " and that handshake failed: "
        + why
        + ". A host that pins"
        + " its certificate or requires a client certificate (mutual TLS) cannot be intercepted: give it an egress"
        + " rule with tls: passthrough (the agent's own TLS then reaches the host; no credential injection, SNI"
        + " allowlist only). An upstream with a private CA needs that CA in the sidecar's --upstream-ca-file.";
  }

  private static String rootMessage(Throwable cause) {
    Throwable t = cause;
    String message = null;
    while (t != null) {
      if (t.getMessage() != null) {
        message = t.getMessage();
      }
      t = t.getCause();
    }
    return message == null ? cause.getClass().getSimpleName() : message;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }
}
