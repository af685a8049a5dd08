package dev.capgate.sidecar.audit;

import java.net.InetSocketAddress;

/**
 * What went over the wire for one {@link AuditEvent}, beside the decision: the protocol the agent
 * spoke, where it was going, how many body bytes went each way and the W3C trace context the agent
 * sent. Only references and counters are taken on the event loop; the audit writer thread checks
 * the {@code traceparent} and formats the rest.
 *
 * @param protocol {@code http/1.1}, {@code h2}, {@code websocket}, {@code tcp}, {@code tls}
 *     (passthrough splice or a failed agent handshake) or {@code dns}; null when unknown
 * @param destination the address and port the agent dialled (the original destination before the
 *     redirect to the sidecar), null when there is none (DNS) or it is unknown
 * @param bytesOut request body bytes relayed from the agent to the upstream, -1 when not counted
 * @param bytesIn response body bytes the agent received (the upstream's as relayed after scrubbing,
 *     or the sidecar's own answer), -1 when not counted
 * @param traceparent the agent's {@code traceparent} header as sent (null when absent); written
 *     only when it is well-formed ({@link TraceParent})
 */
public record Flow(
    String protocol,
    InetSocketAddress destination,
    long bytesOut,
    long bytesIn,
    String traceparent) {
  /** Nothing known beyond the decision. */
  public static final Flow NONE = new Flow(null, null, -1, -1, null);

  /** A protocol and a destination, no byte counts. */
  public static Flow of(String protocol, InetSocketAddress destination) {
    return new Flow(protocol, destination, -1, -1, null);
  }

  /** The protocol of DNS lines. */
  public static final Flow DNS = of("dns", null);
}
