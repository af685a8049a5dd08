package dev.capgate.sidecar.http;

import dev.capgate.sidecar.admin.Metrics;
import dev.capgate.sidecar.approval.Approvals;
import dev.capgate.sidecar.audit.AuditRecorder;
import dev.capgate.sidecar.audit.RequestIds;
import dev.capgate.sidecar.credentials.CredentialResolver;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.footprint.ExchangeActivity;
import dev.capgate.sidecar.limits.RequestLimits;
import dev.capgate.sidecar.policy.PolicySource;
import dev.capgate.sidecar.tls.UpstreamTls;
import dev.capgate.sidecar.upstream.UpstreamDialer;
import java.time.Duration;

/**
 * What every exchange needs, shared by all connections of the sidecar.
 *
 * @param audit records every decision: the audit line and its metric
 * @param upstreamTimeout how long an upstream may stay silent (504 if no response started by then)
 * @param agentIdleTimeout how long an agent HTTP connection may stay idle before it is closed
 * @param placeholders the pod's placeholder credentials (none: no placeholder checks at all)
 * @param knownSecrets the credential values resolved so far, masked in every response (one per
 *     sidecar)
 * @param limits the rate, concurrency and budget limits of the session in force (one per sidecar)
 * @param approvals where requests held for approval are put before a person
 * @param activity exchanges in flight across the sidecar (for {@code IdleHeapRelease}; one per
 *     sidecar)
 */
public record HttpServices(
    PolicySource policies,
    CredentialResolver credentials,
    UpstreamDialer dialer,
    UpstreamTls upstreamTls,
    AuditRecorder audit,
    RequestIds requestIds,
    Metrics metrics,
    Duration upstreamTimeout,
    Duration agentIdleTimeout,
    Placeholders placeholders,
    KnownSecrets knownSecrets,
    RequestLimits limits,
    Approvals approvals,
    ExchangeActivity activity) {

  public HttpServices {
    placeholders = placeholders == null ? Placeholders.none() : placeholders;
    knownSecrets = knownSecrets == null ? new KnownSecrets() : knownSecrets;
    limits = limits == null ? new RequestLimits() : limits;
    approvals =
        approvals == null ? Approvals.unavailable("no API access to ask for approval") : approvals;
    activity = activity == null ? new ExchangeActivity() : activity;
  }

  /** Without approvals: a rule asking for one is answered 503 approval-unavailable. */
  public HttpServices(
      PolicySource policies,
      CredentialResolver credentials,
      UpstreamDialer dialer,
      UpstreamTls upstreamTls,
      AuditRecorder audit,
      RequestIds requestIds,
      Metrics metrics,
      Duration upstreamTimeout,
      Duration agentIdleTimeout,
      Placeholders placeholders,
      KnownSecrets knownSecrets) {
    this(
        policies,
        credentials,
        dialer,
        upstreamTls,
        audit,
        requestIds,
        metrics,
        upstreamTimeout,
        agentIdleTimeout,
        placeholders,
        knownSecrets,
        null,
        null,
        null);
  }
}
