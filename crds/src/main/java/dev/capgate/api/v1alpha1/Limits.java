package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Rate, concurrency and budget limits of one egress rule ({@code spec.egress[].limits}) or of the
 * whole session ({@code spec.limits}). Enforced by each sidecar on its own, in memory: a session
 * with several pods gets these limits once per pod (sidecar/README.md, "Rate limits and budgets").
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "has(self.requestsPerSecond) || has(self.maxConcurrent) || has(self.maxRequests) || has(self.maxBytes)",
    reason = "FieldValueRequired",
    message = "limits must set requestsPerSecond, maxConcurrent, maxRequests or maxBytes")
@ValidationRule(
    value = "!has(self.burst) || has(self.requestsPerSecond)",
    fieldPath = ".burst",
    reason = "FieldValueForbidden",
    message = "burst applies to requestsPerSecond, which is not set")
@ValidationRule(
    value =
        "!has(self.burst) || !has(self.requestsPerSecond) || self.burst >= self.requestsPerSecond",
    fieldPath = ".burst",
    reason = "FieldValueInvalid",
    message = "burst must be at least requestsPerSecond")
public record Limits(
    @Min(1)
        @Max(Limits.MAX_RATE)
        @JsonPropertyDescription(
            "Requests per second, refilled continuously (token bucket). A request over the rate is answered 429 with Retry-After (whole seconds) and never goes upstream.")
        Integer requestsPerSecond,
    @Min(1)
        @Max(Limits.MAX_BURST)
        @JsonPropertyDescription(
            "How many requests may go at once before requestsPerSecond applies (the bucket's size). Default: requestsPerSecond. At least requestsPerSecond.")
        Integer burst,
    @Min(1)
        @Max(Limits.MAX_CONCURRENT)
        @JsonPropertyDescription(
            "Requests in flight upstream at the same time (from admission until the response is relayed). One more is answered 429 with Retry-After: 1, not queued.")
        Integer maxConcurrent,
    @Min(1)
        @Max(Limits.MAX_REQUESTS)
        @JsonPropertyDescription(
            "Requests allowed over the session's lifetime (per pod). After that every request is answered 403 budget-exhausted.")
        Long maxRequests,
    @Min(1)
        @Max(Limits.MAX_BYTES)
        @JsonPropertyDescription(
            "Body bytes (request bodies sent upstream plus response bodies relayed to the agent) allowed over the session's lifetime (per pod). Counted when a request ends; once reached, new requests are answered 403 budget-exhausted.")
        Long maxBytes) {

  /**
   * Above what one sidecar serves (about 15,000 requests/s on 2 cores): a limit that never binds.
   */
  public static final double MAX_RATE = 100_000;

  public static final double MAX_BURST = 1_000_000;
  public static final double MAX_CONCURRENT = 10_000;
  public static final double MAX_REQUESTS = 1_000_000_000_000d;

  /** 1 PiB. */
  public static final double MAX_BYTES = 1_125_899_906_842_624d;

  /**
   * Every limit at the schema's maximum: the most work the limiter does for a request, none of it
   * binding (the limiter's benchmarks and cost test).
   */
  public static Limits atMaxima() {
    return new Limits(
        (int) MAX_RATE,
        (int) MAX_BURST,
        (int) MAX_CONCURRENT,
        (long) MAX_REQUESTS,
        (long) MAX_BYTES);
  }

  /** The bucket's size: {@link #burst}, or {@link #requestsPerSecond} when absent. */
  public int burstOrDefault() {
    return burst != null ? burst : requestsPerSecond == null ? 0 : requestsPerSecond;
  }
}
