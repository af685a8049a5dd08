package dev.capgate.sidecar.intercept;

import dev.capgate.sidecar.policy.ConnectionKind;

/**
 * What the first bytes of a connection revealed.
 *
 * @param serverName SNI or Host without port, lower-case; null if none could be read
 * @param method the first request's method, for plaintext HTTP (for a denial answer); else null
 * @param target the first request's target, for plaintext HTTP; else null
 */
public record Sniffed(ConnectionKind kind, String serverName, String method, String target) {}
