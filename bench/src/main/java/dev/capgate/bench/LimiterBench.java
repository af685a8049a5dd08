package dev.capgate.bench;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;

import dev.capgate.api.v1alpha1.Limits;
import dev.capgate.sidecar.limits.Admit;
import dev.capgate.sidecar.limits.LimitedPolicies;
import dev.capgate.sidecar.limits.RequestLimits;
import dev.capgate.sidecar.limits.Ticket;
import dev.capgate.sidecar.policy.Policy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Section "limiter" (issue 16 §4): what the limiter costs one request, in this JVM, without the
 * network in the way. The sidecar's per-request calls exactly: {@link RequestLimits#admit} on the
 * event loop, then {@link Ticket#release} with the body bytes (the byte-budget accounting), for a
 * policy with every rule and session limit on at the CRD maxima and for one with none, on one and
 * two threads (the sidecar runs two event loops on two cores, sharing the session's counters).
 * Prints ns/op (the thread's CPU time per admit + release) and bytes allocated per op (the threads'
 * allocation counters, exact). Figures are medians of timed trials after a warm-up.
 *
 * <p>A tight loop admits tens of millions of requests a second, far above the CRD's maximum rate of
 * 100,000/s: a bucket run dry would measure the refusal path instead (a refusal fails the run). So
 * each trial is a fixed {@value #OPS_PER_TRIAL} requests on a fresh limiter, within the maximum
 * burst of 1,000,000 (production's clock, production's code); many short trials, the median
 * reported. (A clock run faster instead does not work: a thread preempted between reading it and
 * its compare-and-set sees the bucket far ahead, scaled by the same factor.)
 */
final class LimiterBench {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static final String RULE = "github-api";
  private static final long BODY_BYTES = 1_024 + 64;
  private static final int OPS_PER_TRIAL = 800_000;

  static final Limits NEVER_TRIGGER = Limits.atMaxima();

  record Options(int trials, int warmUpTrials) {}

  private record Figure(
      String limits, int threads, double nsPerOp, double nsMin, double nsMax, double bytesPerOp) {
    JsonObject json() {
      return new JsonObject()
          .put("limits", limits)
          .put("threads", threads)
          .put("nsPerOp", nsPerOp)
          .put("nsPerOpMin", nsMin)
          .put("nsPerOpMax", nsMax)
          .put("bytesAllocatedPerOp", bytesPerOp);
    }
  }

  private final Options options;
  private final Section section;

  LimiterBench(Options options, Section section) {
    this.options = options;
    this.section = section;
  }

  void run() throws Exception {
    Policy none = policy(null, null);
    Policy all = policy(NEVER_TRIGGER, NEVER_TRIGGER);
    List<Figure> figures = new ArrayList<>();
    // Both policies warm the same call sites first (as one sidecar would run either), then each
    // is measured.
    for (int i = 0; i < options.warmUpTrials(); i++) {
      for (Policy p : List.of(none, all)) {
        measure(p, 1 + i % 2, i);
      }
    }
    for (int threads : new int[] {1, 2}) {
      figures.add(figure("none", none, threads));
      figures.add(figure("every rule and session limit at the CRD maxima", all, threads));
    }
    Table t =
        new Table(
            "Limiter — admit + release per request, in-process ("
                + options.trials()
                + " trials of "
                + OPS_PER_TRIAL
                + " requests after "
                + options.warmUpTrials()
                + " warm-up trials; median, min..max)",
            "limits",
            "threads",
            "ns/op",
            "min..max",
            "bytes allocated/op");
    JsonArray rows = new JsonArray();
    for (Figure f : figures) {
      t.row(
          f.limits(),
          f.threads(),
          DataPlaneBench.f1(f.nsPerOp()),
          DataPlaneBench.f1(f.nsMin()) + ".." + DataPlaneBench.f1(f.nsMax()),
          DataPlaneBench.f1(f.bytesPerOp()));
      rows.add(f.json());
    }
    t.note(
        "op = RequestLimits.admit(policy, rule) + Ticket.release(body bytes), the sidecar's per-request"
            + " calls; ns/op is the thread's CPU time per op; two threads share the session's"
            + " counters, as two event loops do, but contend on every op here (a worst case: an"
            + " event loop spends tens of µs on a request between two admissions).");
    section.add(t);
    section.json.put("rows", rows);
    section.json.put(
        "method",
        "in-process loop over admit + release, "
            + OPS_PER_TRIAL
            + " requests per trial on a fresh limiter (within the maximum burst, so the 100,000/s"
            + " rate never runs dry); allocation from ThreadMXBean.getThreadAllocatedBytes");
  }

  private Figure figure(String name, Policy policy, int threads) throws Exception {
    double[] ns = new double[options.trials()];
    double bytes = 0;
    for (int i = 0; i < ns.length; i++) {
      double[] r = measure(policy, threads, i);
      ns[i] = r[0];
      bytes += r[1];
    }
    Stats s = new Stats(ns);
    Bench.say(
        "  limiter: "
            + name
            + ", "
            + threads
            + " thread(s): "
            + Arrays.toString(Arrays.stream(ns).map(v -> Math.round(v * 10) / 10.0).toArray())
            + " ns/op");
    return new Figure(name, threads, s.percentile(50), s.percentile(0), s.max(), bytes / ns.length);
  }

  /**
   * One trial: {@code threads} threads admit and release {@value #OPS_PER_TRIAL} requests in all on
   * a fresh limiter.
   *
   * @return [CPU ns per op on a thread, bytes allocated per op]
   */
  private static double[] measure(Policy policy, int threads, int trial) throws Exception {
    RequestLimits limits = new RequestLimits();
    limits.admit(policy, RULE); // compile the policy outside the timed part
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    CyclicBarrier end = new CyclicBarrier(threads + 1);
    AtomicLong ops = new AtomicLong();
    AtomicLong allocated = new AtomicLong();
    AtomicLong cpu = new AtomicLong();
    long[] refused = new long[threads];
    java.util.concurrent.atomic.AtomicReference<String> firstRefusal =
        new java.util.concurrent.atomic.AtomicReference<>();
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < threads; w++) {
      int me = w;
      Thread thread =
          Thread.ofPlatform()
              .name("limiter-" + trial + "-" + w)
              .start(
                  () -> {
                    try {
                      long id = Thread.currentThread().threadId();
                      start.await();
                      int n = OPS_PER_TRIAL / threads;
                      long bytes0 = THREADS.getThreadAllocatedBytes(id);
                      long t0 = THREADS.getCurrentThreadCpuTime();
                      for (int i = 0; i < n; i++) {
                        Admit a = limits.admit(policy, RULE);
                        if (a instanceof Ticket ticket) {
                          ticket.release(BODY_BYTES);
                        } else {
                          refused[me]++;
                          firstRefusal.compareAndSet(null, String.valueOf(a));
                        }
                      }
                      long now = THREADS.getCurrentThreadCpuTime();
                      allocated.addAndGet(THREADS.getThreadAllocatedBytes(id) - bytes0);
                      cpu.addAndGet(now - t0);
                      ops.addAndGet(n);
                      end.await();
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  });
      workers.add(thread);
    }
    start.await();
    end.await();
    for (Thread w : workers) {
      w.join();
    }
    long refusals = Arrays.stream(refused).sum();
    if (refusals > 0) {
      throw new IllegalStateException(
          refusals + " refusals (" + firstRefusal.get() + "): the bench measured the wrong path");
    }
    // Each thread's CPU time over its own ops, averaged: ns of CPU a request spends in the
    // limiter. CPU rather than wall time: a thread preempted by other work on a shared machine
    // would otherwise count the other work's time (wall time varied 10× between trials).
    double nsPerOp = (double) cpu.get() / ops.get();
    return new double[] {nsPerOp, (double) allocated.get() / ops.get()};
  }

  private static Policy policy(Limits rule, Limits session) {
    return LimitedPolicies.oneRule(RULE, BenchPod.UPSTREAM_HOST, rule, session);
  }
}
