package dev.capgate.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The operator's own meters, on Micrometer beside JOSDK's reconcile metrics (docs/metrics.md lists
 * every name). Micrometer's Prometheus registry names them the Prometheus way: base units
 * (seconds), {@code _total} on counters. Every label has a fixed, small set of values written here
 * (outcomes, operations, kinds): never a pod, session, namespace, path or token. Every series
 * exists from the start at 0, so that alerts on {@code increase(...)} see the first failure.
 */
public final class OperatorMetrics {
  /** How an admission request ended. */
  public enum AdmissionOutcome {
    /** Allowed with a patch: the sidecar injected, or an agent container hardened. */
    PATCHED,
    /** Allowed unchanged (not opted in, a dry run of nothing to do, an allowed UPDATE). */
    ALLOWED,
    /** Refused (hardening, no such session, Pod Security, ...). */
    DENIED,
    /** Refused because the operator failed to decide (failurePolicy Fail semantics). */
    ERROR;

    final String label = name().toLowerCase(Locale.ROOT);
  }

  /** A call the operator makes to Vault. */
  public enum VaultOperation {
    LOGIN,
    REVOKE_LEASE,
    REVOKE_ACCESSOR,
    LOOKUP_ACCESSOR;

    final String label = name().toLowerCase(Locale.ROOT);
  }

  /** How a Vault call ended. */
  public enum VaultOutcome {
    /** Answered 2xx (or "already gone" for a revocation). */
    OK,
    /** Answered with an error status (403, 5xx, sealed). */
    REFUSED,
    /** Not answered: connection refused, TLS failure, timeout. */
    UNREACHABLE;

    final String label = name().toLowerCase(Locale.ROOT);
  }

  /** What a ledger entry's revocation came to. */
  public enum RevocationOutcome {
    /** Revoked in Vault (or already gone there). */
    REVOKED,
    /** Not the session's (possible tampering with the ledger): left alone, reported. */
    REFUSED,
    /** Vault could not be asked or said no: kept for the next attempt. */
    FAILED,
    /** The operator has no Vault token: nothing it can revoke. */
    NO_TOKEN;

    final String label = name().toLowerCase(Locale.ROOT);
  }

  /** What the webhook could not answer with a decision. */
  public enum WebhookError {
    /** A request that is no AdmissionReview (400): the API server never sends these. */
    BAD_REQUEST,
    /** The decision failed with an exception: the pod was refused (500-free, a deny). */
    INTERNAL;

    final String label = name().toLowerCase(Locale.ROOT);
  }

  /** Admission latency buckets: from a skipped pod to a slow API server (the webhook's 5 s). */
  private static final Duration[] ADMISSION_BUCKETS = {
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5)
  };

  private final MeterRegistry registry;
  private final Map<AdmissionOutcome, Timer> admissions = new ConcurrentHashMap<>();
  private final Counter caMints;
  private final Map<String, Counter> revocations = new ConcurrentHashMap<>();
  private final Map<String, Counter> vaultRequests = new ConcurrentHashMap<>();
  private final Map<WebhookError, Counter> webhookErrors = new ConcurrentHashMap<>();

  private OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (AdmissionOutcome outcome : AdmissionOutcome.values()) {
      admissions.put(
          outcome,
          Timer.builder("capgate.admission.duration")
              .description("Admission requests answered by the webhook, by outcome")
              .tag("outcome", outcome.label)
              .serviceLevelObjectives(ADMISSION_BUCKETS)
              .register(registry));
    }
    caMints =
        Counter.builder("capgate.pod.ca.mints")
            .description("Pod CAs minted and stored for admitted pods")
            .register(registry);
    for (String kind : new String[] {"lease", "token"}) {
      for (RevocationOutcome outcome : RevocationOutcome.values()) {
        revocations.put(
            kind + outcome.label,
            Counter.builder("capgate.revocations")
                .description("Ledger entries (Vault leases, session tokens) by what revocation did")
                .tags("kind", kind, "outcome", outcome.label)
                .register(registry));
      }
    }
    for (VaultOperation operation : VaultOperation.values()) {
      for (VaultOutcome outcome : VaultOutcome.values()) {
        vaultRequests.put(
            operation.label + outcome.label,
            Counter.builder("capgate.vault.requests")
                .description("Calls of the operator to Vault, by operation and outcome")
                .tags("operation", operation.label, "outcome", outcome.label)
                .register(registry));
      }
    }
    for (WebhookError kind : WebhookError.values()) {
      webhookErrors.put(
          kind,
          Counter.builder("capgate.webhook.errors")
              .description("Webhook requests answered without a regular decision, by kind")
              .tag("kind", kind.label)
              .register(registry));
    }
  }

  /**
   * Meters served in the Prometheus format ({@link #scrape}), with the JVM's memory. Not
   * Micrometer's processor binder: its {@code process_cpu_time_ns_total} and {@code
   * system_cpu_count} fail {@code promtool check metrics} (a unit abbreviated, a gauge named like a
   * histogram's count), and the kubelet has the container's CPU anyway.
   */
  public static OperatorMetrics prometheus() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(HELP_FOR_EVERY_METER);
    new JvmMemoryMetrics().bindTo(registry);
    return new OperatorMetrics(registry);
  }

  /**
   * JOSDK registers its meters without a description, which Prometheus' linter refuses ("no help
   * text"): each gets one naming where it comes from (docs/metrics.md describes them).
   */
  private static final MeterFilter HELP_FOR_EVERY_METER =
      new MeterFilter() {
        @Override
        public Meter.Id map(Meter.Id id) {
          if (id.getDescription() != null && !id.getDescription().isBlank()) {
            return id;
          }
          return new Meter.Id(
              id.getName(),
              Tags.of(id.getTags()),
              id.getBaseUnit(),
              "Java Operator SDK meter " + id.getName() + " (docs/metrics.md)",
              id.getType());
        }
      };

  /** Meters kept in memory and never served: for parts built outside the operator (tests). */
  public static OperatorMetrics unserved() {
    return new OperatorMetrics(new SimpleMeterRegistry());
  }

  /** The registry JOSDK's metrics go to. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Every meter in the Prometheus text format; empty for {@link #unserved()} meters. */
  public String scrape() {
    return registry instanceof PrometheusMeterRegistry prometheus ? prometheus.scrape() : "";
  }

  public void admission(AdmissionOutcome outcome, long nanos) {
    admissions.get(outcome).record(nanos, TimeUnit.NANOSECONDS);
  }

  public void caMinted() {
    caMints.increment();
  }

  /**
   * @param lease true for a Vault lease, false for a session token (its accessor)
   */
  public void revocation(boolean lease, RevocationOutcome outcome) {
    revocations.get((lease ? "lease" : "token") + outcome.label).increment();
  }

  public void vaultRequest(VaultOperation operation, VaultOutcome outcome) {
    vaultRequests.get(operation.label + outcome.label).increment();
  }

  public void webhookError(WebhookError kind) {
    webhookErrors.get(kind).increment();
  }
}
