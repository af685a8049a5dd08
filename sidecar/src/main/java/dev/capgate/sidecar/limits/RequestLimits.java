package dev.capgate.sidecar.limits;

import dev.capgate.api.v1alpha1.Limits;
import dev.capgate.sidecar.policy.Policy;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The rate, concurrency and budget limits of the session in force, in this pod's memory (issue 16
 * §4; sidecar/README.md, "Rate limits and budgets"). {@link #admit} runs on the event loop for
 * every request a rule allowed: lock-free (compare-and-set on atomics) and, when neither the rule
 * nor the session has limits, allocation-free.
 *
 * <p>Checked in this order, so that a refusal takes nothing: budgets (read only), then the rule's
 * and the session's rate (a token each), then their concurrency (a slot each), then the request is
 * counted against the request budgets. A later refusal gives back what an earlier check took.
 *
 * <p>A new policy ({@link #install}) swaps the limits in force; the usage (in-flight requests,
 * requests and bytes so far) is kept by rule name and for the session, so an edit changes a budget
 * but never resets it, and a rate whose numbers did not change keeps its bucket. Another session (a
 * new name) starts from zero.
 */
public final class RequestLimits {
  private static final String SESSION = "";

  /** The limiters of one policy: looked up per request, replaced whole when the policy changes. */
  private record Compiled(Policy policy, Map<String, ScopeLimiter> rules, ScopeLimiter session) {}

  private static final Compiled NONE = new Compiled(null, Map.of(), null);

  private final LongSupplier nanos;
  private final Map<String, Usage> usage = new ConcurrentHashMap<>();
  private volatile Compiled compiled = NONE;

  /** namespace/name of the session whose usage is kept. */
  private String owner;

  public RequestLimits() {
    this(System::nanoTime);
  }

  /**
   * @param nanos a monotonic clock in nanoseconds (tests move it by hand)
   */
  public RequestLimits(LongSupplier nanos) {
    this.nanos = nanos;
  }

  /**
   * Puts the limits of {@code policy} in force. {@link #admit} calls it when the policy it is
   * handed is not the one compiled last (once per spec change): a short section, synchronized
   * against another install only; admissions under an unchanged policy read the result lock-free.
   */
  public synchronized void install(Policy policy) {
    if (compiled.policy() == policy) {
      return; // another event loop compiled it first
    }
    String session = policy.session().namespace() + "/" + policy.session().name();
    if (!session.equals(owner)) {
      owner = session;
      usage.clear(); // budgets belong to one session (an edit of its project keeps them)
    }
    Compiled before = compiled;
    Map<String, ScopeLimiter> rules = new HashMap<>();
    policy
        .ruleLimits()
        .forEach(
            (rule, limits) -> rules.put(rule, limiter(rule, limits, before.rules().get(rule))));
    Limits sessionLimits = policy.sessionLimits();
    compiled =
        new Compiled(
            policy,
            Map.copyOf(rules),
            sessionLimits == null ? null : limiter(SESSION, sessionLimits, before.session()));
  }

  private ScopeLimiter limiter(String scope, Limits limits, ScopeLimiter before) {
    Usage used = usage.computeIfAbsent(scope, s -> new Usage());
    TokenBucket bucket = null;
    if (limits.requestsPerSecond() != null) {
      int rate = limits.requestsPerSecond();
      int burst = limits.burstOrDefault();
      bucket =
          before != null
                  && before.bucket != null
                  && before.bucket.rate() == rate
                  && before.bucket.burst() == burst
              ? before.bucket
              : new TokenBucket(rate, burst, nanos);
    }
    return new ScopeLimiter(scope, limits, used, bucket);
  }

  /** Whether any limit is in force (for tests and the start-up log). */
  public boolean active() {
    Compiled c = compiled;
    return c.session() != null || !c.rules().isEmpty();
  }

  /**
   * The limits' answer for a request {@code rule} of {@code policy} allowed: a {@link Ticket} to
   * {@link Ticket#release} when the request ends, or a {@link LimitRefusal}.
   */
  public Admit admit(Policy policy, String rule) {
    Compiled c = compiled;
    if (c.policy() != policy) {
      install(policy);
      c = compiled;
    }
    ScopeLimiter r = rule == null ? null : c.rules().get(rule);
    ScopeLimiter s = c.session();
    if (r == null && s == null) {
      return Ticket.NONE;
    }
    LimitRefusal refused = budget(r, rule);
    if (refused == null) {
      refused = budget(s, rule);
    }
    if (refused != null) {
      return refused;
    }
    boolean ruleToken = false;
    if (r != null && r.bucket != null) {
      long wait = r.bucket.tryTake();
      if (wait > 0) {
        return rate(r, rule, wait);
      }
      ruleToken = true;
    }
    if (s != null && s.bucket != null) {
      long wait = s.bucket.tryTake();
      if (wait > 0) {
        giveBack(r, ruleToken);
        return rate(s, rule, wait);
      }
    }
    boolean sessionToken = s != null && s.bucket != null;
    boolean ruleSlot = false;
    if (r != null && r.limits.maxConcurrent() != null) {
      if (!r.usage.tryEnter(r.limits.maxConcurrent())) {
        giveBack(r, ruleToken);
        giveBack(s, sessionToken);
        return concurrency(r, rule);
      }
      ruleSlot = true;
    }
    boolean sessionSlot = false;
    if (s != null && s.limits.maxConcurrent() != null) {
      if (!s.usage.tryEnter(s.limits.maxConcurrent())) {
        undo(r, ruleToken, ruleSlot);
        giveBack(s, sessionToken);
        return concurrency(s, rule);
      }
      sessionSlot = true;
    }
    if (r != null && !count(r)) {
      undo(r, ruleToken, ruleSlot);
      undo(s, sessionToken, sessionSlot);
      return requestBudget(r, rule);
    }
    if (s != null && !count(s)) {
      if (r != null) {
        r.usage.requests.decrementAndGet();
      }
      undo(r, ruleToken, ruleSlot);
      undo(s, sessionToken, sessionSlot);
      return requestBudget(s, rule);
    }
    return new Ticket(
        r == null ? null : r.usage, ruleSlot, s == null ? null : s.usage, sessionSlot);
  }

  private static boolean count(ScopeLimiter l) {
    Long max = l.limits.maxRequests();
    if (max == null) {
      l.usage.requests.incrementAndGet();
      return true;
    }
    return l.usage.tryCountRequest(max);
  }

  private static void giveBack(ScopeLimiter l, boolean token) {
    if (token) {
      l.bucket.giveBack();
    }
  }

  private static void undo(ScopeLimiter l, boolean token, boolean slot) {
    giveBack(l, token);
    if (slot) {
      l.usage.leave();
    }
  }

  // ------------------------------------------------------------------ refusals (allocate; rare)

  private static String whose(ScopeLimiter l, String rule) {
    return l.scope.equals(SESSION) ? "the session" : "rule '" + rule + "'";
  }

  private static LimitRefusal budget(ScopeLimiter l, String rule) {
    if (l == null) {
      return null;
    }
    if (l.requestsExhausted()) {
      return requestBudget(l, rule);
    }
    if (l.bytesExhausted()) {
      return new LimitRefusal(
          LimitKind.BYTE_BUDGET,
          l.scope.equals(SESSION),
          0,
          "budget-exhausted: "
              + whose(l, rule)
              + " has used its budget of "
              + l.limits.maxBytes()
              + " body bytes ("
              + l.usage.bytes.get()
              + " used in this pod)");
    }
    return null;
  }

  private static LimitRefusal requestBudget(ScopeLimiter l, String rule) {
    return new LimitRefusal(
        LimitKind.REQUEST_BUDGET,
        l.scope.equals(SESSION),
        0,
        "budget-exhausted: "
            + whose(l, rule)
            + " has used its budget of "
            + l.limits.maxRequests()
            + " requests in this pod");
  }

  private static LimitRefusal rate(ScopeLimiter l, String rule, long waitNanos) {
    long seconds = TokenBucket.retryAfterSeconds(waitNanos);
    return new LimitRefusal(
        LimitKind.RATE,
        l.scope.equals(SESSION),
        seconds,
        "rate-limited: "
            + whose(l, rule)
            + " allows "
            + l.bucket.rate()
            + " requests/s, burst "
            + l.bucket.burst()
            + " (per pod); retry after "
            + seconds
            + " s");
  }

  private static LimitRefusal concurrency(ScopeLimiter l, String rule) {
    return new LimitRefusal(
        LimitKind.CONCURRENCY,
        l.scope.equals(SESSION),
        1,
        "concurrency-limited: "
            + whose(l, rule)
            + " allows "
            + l.limits.maxConcurrent()
            + " requests in flight (per pod)");
  }
}
