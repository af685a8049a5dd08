package dev.capgate.sidecar.audit;

/**
 * One decision, as audited. Carries names only: {@code credential} is the credential's name, the
 * path has no query (queries can carry tokens), and there is no field a value could go in.
 *
 * @param decision allow, deny or error
 * @param upstreamStatus the upstream's HTTP status, null when nothing was forwarded
 */
public record AuditEvent(
    String requestId,
    String session,
    String namespace,
    String user,
    String agent,
    String host,
    String method,
    String path,
    String rule,
    String decision,
    String credential,
    Integer upstreamStatus,
    long latencyMicros,
    String reason) {}
