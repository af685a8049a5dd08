package dev.capgate.sidecar.limits;

/**
 * A request refused by a limit: 429 with {@code Retry-After} (rate, concurrency) or 403 (a budget
 * used up).
 *
 * @param kind which limit
 * @param session the session's limit ({@code spec.limits}) rather than the rule's
 * @param retryAfterSeconds whole seconds for {@code Retry-After}; 0 for budgets (no header)
 * @param reason the audit line's reason, starting with {@link #error()}; never request data
 */
public record LimitRefusal(LimitKind kind, boolean session, long retryAfterSeconds, String reason)
    implements Admit {

  /** The answer's {@code error} token: rate-limited, concurrency-limited or budget-exhausted. */
  public String error() {
    return switch (kind) {
      case RATE -> "rate-limited";
      case CONCURRENCY -> "concurrency-limited";
      case REQUEST_BUDGET, BYTE_BUDGET -> "budget-exhausted";
    };
  }

  /** {@code rule} or {@code session}: the metric label saying whose limit it was. */
  public String scope() {
    return session ? "session" : "rule";
  }
}
