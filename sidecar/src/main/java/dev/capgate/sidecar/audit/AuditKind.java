package dev.capgate.sidecar.audit;

/**
 * What an {@link AuditEvent} is about, which decides the metric {@link AuditRecorder} counts it in
 * (and, for DNS, whether it is a line at all). Written as {@code "kind"} in the audit line.
 */
public sealed interface AuditKind {
  /** A whole agent connection spliced or refused before any HTTP was read. */
  AuditKind CONNECTION = new Connection();

  /** One HTTP request (HTTP/1.1 or an HTTP/2 stream) of an intercepted connection. */
  AuditKind REQUEST = new Request();

  /** The failures {@link #tls} names: the {@code kind} label's values. */
  java.util.List<String> TLS_FAILURES =
      java.util.List.of(
          "agent-rejected-pod-ca", "agent-tls-handshake-timeout", "agent-tls-handshake-failed");

  /** {@code connection}, {@code request}, {@code dns} or {@code tls}. */
  String label();

  /**
   * The audit line's {@code type}, dotted as event types usually are: {@code connection}, {@code
   * http.request}, {@code dns} or {@code tls.handshake}. {@code kind} stays for the lines' readers
   * and the metrics' {@code level} label.
   */
  String type();

  static AuditKind dns(DnsOutcome outcome) {
    return new Dns(outcome);
  }

  /**
   * An agent TLS handshake that failed, its {@code failure} the stable token the audit reason
   * starts with (the part before the first colon): {@code agent-rejected-pod-ca}, {@code
   * agent-tls-handshake-timeout}, {@code agent-tls-handshake-failed}.
   */
  static AuditKind tls(String reason) {
    int colon = reason.indexOf(':');
    return new Tls(colon < 0 ? reason : reason.substring(0, colon));
  }

  /** See {@link #CONNECTION}. */
  record Connection() implements AuditKind {
    @Override
    public String label() {
      return "connection";
    }

    @Override
    public String type() {
      return "connection";
    }
  }

  /** See {@link #REQUEST}. */
  record Request() implements AuditKind {
    @Override
    public String label() {
      return "request";
    }

    @Override
    public String type() {
      return "http.request";
    }
  }

  /** One DNS query and how it was answered. */
  record Dns(DnsOutcome outcome) implements AuditKind {
    @Override
    public String label() {
      return "dns";
    }

    @Override
    public String type() {
      return "dns";
    }
  }

  /** See {@link AuditKind#tls(String)}. */
  record Tls(String failure) implements AuditKind {
    @Override
    public String label() {
      return "tls";
    }

    @Override
    public String type() {
      return "tls.handshake";
    }
  }
}
