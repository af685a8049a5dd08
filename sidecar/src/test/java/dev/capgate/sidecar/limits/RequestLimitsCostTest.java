package dev.capgate.sidecar.limits;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.Limits;
import dev.capgate.sidecar.policy.Policy;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * What the limiter costs an admitted request on the event loop: bytes allocated (exact, from the
 * thread's allocation counter) and CPU time (rough on a shared machine; printed, not asserted).
 */
class RequestLimitsCostTest {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static final int ROUNDS = 200_000;

  private static Policy policy(Limits rule, Limits session) {
    return LimitedPolicies.oneRule("api", "api.example.com", rule, session);
  }

  /** Every limit on at its maximum: each request takes a token, a slot and budget, none refused. */
  private static final Limits NEVER = Limits.atMaxima();

  /** Bytes and CPU nanoseconds per admit + release, after a warm-up. */
  private static long[] cost(Policy policy) {
    RequestLimits limits = new RequestLimits();
    long thread = Thread.currentThread().threadId();
    for (int i = 0; i < ROUNDS; i++) { // warm: the JIT, the compiled limits
      ((Ticket) limits.admit(policy, "api")).release(100);
    }
    long bytes = THREADS.getThreadAllocatedBytes(thread);
    long cpu = THREADS.getCurrentThreadCpuTime();
    for (int i = 0; i < ROUNDS; i++) {
      Admit admit = limits.admit(policy, "api");
      ((Ticket) admit).release(100);
    }
    return new long[] {
      (THREADS.getThreadAllocatedBytes(thread) - bytes) / ROUNDS,
      (THREADS.getCurrentThreadCpuTime() - cpu) / ROUNDS
    };
  }

  @Test
  void withoutLimitsNothingIsAllocated() {
    long[] none = cost(policy(null, null));
    long[] all = cost(policy(NEVER, NEVER));
    System.out.printf(
        "[limits cost] per request, admit + release: no limits %d B, %d ns; every rule and session"
            + " limit on %d B, %d ns (load %s)%n",
        none[0],
        none[1],
        all[0],
        all[1],
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    assertThat(none[0]).as("bytes per request without limits").isZero();
    assertThat(all[0]).as("bytes per request with every limit: the ticket, at most").isLessThan(64);
  }
}
