package dev.capgate.sidecar.http;

import dev.capgate.sidecar.PolicySource;
import dev.capgate.sidecar.admin.Metrics;
import dev.capgate.sidecar.audit.AuditLog;
import dev.capgate.sidecar.audit.RequestIds;
import dev.capgate.sidecar.credentials.CredentialResolver;
import dev.capgate.sidecar.intercept.UpstreamDialer;
import dev.capgate.sidecar.tls.UpstreamTls;
import java.time.Duration;

/**
 * What every exchange needs, shared by all connections of the sidecar.
 *
 * @param upstreamTimeout how long an upstream may stay silent (504 if no response started by then)
 * @param agentIdleTimeout how long an agent HTTP connection may stay idle before it is closed
 */
public record HttpServices(PolicySource policies, CredentialResolver credentials, UpstreamDialer dialer,
    UpstreamTls upstreamTls, AuditLog audit, RequestIds requestIds, Metrics metrics, Duration upstreamTimeout,
    Duration agentIdleTimeout) {
}
