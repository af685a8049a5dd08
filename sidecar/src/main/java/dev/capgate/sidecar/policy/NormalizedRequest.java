package dev.capgate.sidecar.policy;

/**
 * What policy sees and exactly what is forwarded (invariant 5).
 *
 * @param method upper-case RFC 9110 token
 * @param host lower-case, no port, no trailing dot (IPv6 literals keep their brackets)
 * @param port the destination port, which the Host port (if any) matched
 * @param path percent-decoded, dot-segments removed: what rules match
 * @param target what is forwarded: the same path in canonical percent-encoding, plus {@code "?" +
 *     query}
 * @param query the raw query, validated; null when the target had no {@code ?}
 * @param tls whether the request came over intercepted TLS (else plaintext HTTP): credentials are
 *     only ever injected into TLS requests
 */
public record NormalizedRequest(
    String method, String host, int port, String path, String target, String query, boolean tls) {}
