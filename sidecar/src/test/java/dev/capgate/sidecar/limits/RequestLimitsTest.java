package dev.capgate.sidecar.limits;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Limits;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Rule and session limits together, on a clock the test moves by hand. */
class RequestLimitsTest {
  private static final long SECOND = 1_000_000_000L;
  private static final SessionIdentity SESSION =
      new SessionIdentity("agents", "s", "alice@example.com", "coding-agent", null);

  private final AtomicLong now = new AtomicLong();
  private final RequestLimits limits = new RequestLimits(now::get);

  private static Limits rate(int rate, Integer burst) {
    return new Limits(rate, burst, null, null, null);
  }

  private static Limits concurrent(int max) {
    return new Limits(null, null, max, null, null);
  }

  private static Limits budget(Long requests, Long bytes) {
    return new Limits(null, null, null, requests, bytes);
  }

  private static Policy policyOf(SessionIdentity session, Limits sessionLimits, Limits... rules) {
    AgentSessionBuilder b =
        AgentSessionBuilder.specOnly().user("alice@example.com").agent("coding-agent");
    for (int i = 0; i < rules.length; i++) {
      b.egress(rule("r" + i).hosts("api.example.com").limits(rules[i]));
    }
    b.egress(rule("free").hosts("free.example.com"));
    b.limits(sessionLimits);
    return Policy.compile(session, b.spec());
  }

  private static Policy policy(Limits sessionLimits, Limits... rules) {
    return policyOf(SESSION, sessionLimits, rules);
  }

  @Test
  void withoutLimitsEveryRequestGetsTheSharedEmptyTicket() {
    Policy p = policy(null, rate(1, null));
    assertThat(limits.admit(p, "free")).isSameAs(Ticket.NONE);
    assertThat(limits.admit(p, null)).isSameAs(Ticket.NONE);
  }

  @Test
  void overTheRateIs429WithRetryAfterInWholeSeconds() {
    Policy p = policy(null, rate(2, 4));
    for (int i = 0; i < 4; i++) {
      assertThat(limits.admit(p, "r0")).isInstanceOf(Ticket.class);
    }
    LimitRefusal refused = (LimitRefusal) limits.admit(p, "r0");
    assertThat(refused.kind()).isEqualTo(LimitKind.RATE);
    assertThat(refused.kind().status()).isEqualTo(429);
    assertThat(refused.retryAfterSeconds()).isEqualTo(1);
    assertThat(refused.error()).isEqualTo("rate-limited");
    assertThat(refused.scope()).isEqualTo("rule");
    assertThat(refused.reason())
        .isEqualTo(
            "rate-limited: rule 'r0' allows 2 requests/s, burst 4 (per pod); retry after 1 s");
    now.addAndGet(SECOND / 2);
    assertThat(limits.admit(p, "r0")).isInstanceOf(Ticket.class);
    assertThat(limits.admit(p, "free")).as("another rule is not limited").isSameAs(Ticket.NONE);
  }

  @Test
  void concurrencyCountsRequestsUntilTheyAreReleased() {
    Policy p = policy(null, concurrent(2));
    Ticket a = (Ticket) limits.admit(p, "r0");
    Ticket b = (Ticket) limits.admit(p, "r0");
    LimitRefusal refused = (LimitRefusal) limits.admit(p, "r0");
    assertThat(refused.kind()).isEqualTo(LimitKind.CONCURRENCY);
    assertThat(refused.retryAfterSeconds()).isEqualTo(1);
    a.release(0);
    a.release(0); // a second release frees nothing more
    assertThat(limits.admit(p, "r0")).isInstanceOf(Ticket.class);
    assertThat(limits.admit(p, "r0")).isInstanceOf(LimitRefusal.class);
    b.release(0);
    assertThat(limits.admit(p, "r0")).isInstanceOf(Ticket.class);
  }

  @Test
  void requestAndByteBudgetsAre403OnceUsedUp() {
    Policy p = policy(null, budget(3L, null), budget(null, 1_000L));
    for (int i = 0; i < 3; i++) {
      ((Ticket) limits.admit(p, "r0")).release(10);
    }
    LimitRefusal requests = (LimitRefusal) limits.admit(p, "r0");
    assertThat(requests.kind()).isEqualTo(LimitKind.REQUEST_BUDGET);
    assertThat(requests.kind().status()).isEqualTo(403);
    assertThat(requests.retryAfterSeconds()).isZero();
    assertThat(requests.error()).isEqualTo("budget-exhausted");
    assertThat(requests.reason()).contains("rule 'r0'", "3 requests");

    ((Ticket) limits.admit(p, "r1")).release(999);
    Ticket last = (Ticket) limits.admit(p, "r1");
    assertThat(limits.admit(p, "r1"))
        .as("bytes count when a request ends")
        .isInstanceOf(Ticket.class);
    last.release(5_000); // the request in flight finishes; it may overshoot
    LimitRefusal bytes = (LimitRefusal) limits.admit(p, "r1");
    assertThat(bytes.kind()).isEqualTo(LimitKind.BYTE_BUDGET);
    assertThat(bytes.reason()).contains("1000 body bytes", "5999 used");
  }

  @Test
  void theSessionsLimitsApplyOnTopOfEachRules() {
    Policy p = policy(budget(3L, null), rate(100, 100), concurrent(10));
    limits.admit(p, "r0");
    limits.admit(p, "r1");
    limits.admit(p, "free");
    LimitRefusal refused = (LimitRefusal) limits.admit(p, "r0");
    assertThat(refused.session()).isTrue();
    assertThat(refused.scope()).isEqualTo("session");
    assertThat(refused.reason()).startsWith("budget-exhausted: the session has used");
  }

  @Test
  void aLaterRefusalGivesBackWhatEarlierChecksTook() {
    // The rule has a rate; the session allows one request in flight.
    Policy p = policy(concurrent(1), rate(1, 1));
    Ticket first = (Ticket) limits.admit(p, "free");
    LimitRefusal refused = (LimitRefusal) limits.admit(p, "r0");
    assertThat(refused.kind()).isEqualTo(LimitKind.CONCURRENCY);
    assertThat(refused.session()).isTrue();
    first.release(0);
    assertThat(limits.admit(p, "r0"))
        .as("the rule's one token was given back when the session refused")
        .isInstanceOf(Ticket.class);
  }

  @Test
  void anEditChangesTheLimitsButKeepsWhatWasUsed() {
    Policy before = policy(null, budget(10L, null), rate(1, 1));
    for (int i = 0; i < 5; i++) {
      limits.admit(before, "r0");
    }
    limits.admit(before, "r1");
    Policy lowered = policy(null, budget(5L, null), rate(1, 1));
    assertThat(limits.admit(lowered, "r0"))
        .as("5 of the new 5 are used already")
        .isInstanceOf(LimitRefusal.class);
    assertThat(limits.admit(lowered, "r1"))
        .as("an unchanged rate keeps its bucket (the token is still spent)")
        .isInstanceOf(LimitRefusal.class);
    Policy sameSessionNewProject =
        policyOf(
            new SessionIdentity("agents", "s", "alice@example.com", "coding-agent", "other"),
            null,
            budget(5L, null));
    assertThat(limits.admit(sameSessionNewProject, "r0"))
        .as("an edit of the project is the same session")
        .isInstanceOf(LimitRefusal.class);
    Policy otherSession =
        policyOf(
            new SessionIdentity("agents", "other", "bob@example.com", "coding-agent", null),
            null,
            budget(5L, null));
    assertThat(limits.admit(otherSession, "r0"))
        .as("another session starts from zero")
        .isInstanceOf(Ticket.class);
  }

  @Test
  void concurrentAdmissionsNeverExceedTheCapOrTheBudget() throws Exception {
    Policy p = policy(budget(1_000L, null), concurrent(3));
    AtomicLong maxSeen = new AtomicLong();
    java.util.concurrent.atomic.AtomicInteger inFlight =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger admitted =
        new java.util.concurrent.atomic.AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; i < 2_000; i++) {
                      if (limits.admit(p, "r0") instanceof Ticket ticket) {
                        admitted.incrementAndGet();
                        maxSeen.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                        inFlight.decrementAndGet();
                        ticket.release(0);
                      }
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(maxSeen.get()).isLessThanOrEqualTo(3);
    assertThat(admitted.get()).isEqualTo(1_000);
  }
}
