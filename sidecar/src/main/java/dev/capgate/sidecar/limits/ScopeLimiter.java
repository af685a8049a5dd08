package dev.capgate.sidecar.limits;

import dev.capgate.api.v1alpha1.Limits;

/**
 * The limits of one scope (a rule or the session) as compiled from the spec in force, over that
 * scope's {@link Usage}, which outlives the spec. Immutable but for the usage and the bucket.
 */
final class ScopeLimiter {
  final String scope;
  final Limits limits;
  final Usage usage;

  /** Null when the scope has no rate. */
  final TokenBucket bucket;

  ScopeLimiter(String scope, Limits limits, Usage usage, TokenBucket bucket) {
    this.scope = scope;
    this.limits = limits;
    this.usage = usage;
    this.bucket = bucket;
  }

  boolean requestsExhausted() {
    return limits.maxRequests() != null && usage.requests.get() >= limits.maxRequests();
  }

  boolean bytesExhausted() {
    return limits.maxBytes() != null && usage.bytes.get() >= limits.maxBytes();
  }
}
