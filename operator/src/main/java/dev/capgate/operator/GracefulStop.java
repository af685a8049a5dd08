package dev.capgate.operator;

import dev.capgate.api.v1alpha1.Durations;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * How the operator stops on SIGTERM (a rollout, a drain of the node): drain first, then stop, then
 * exit 0.
 *
 * <p>The JVM's own SIGTERM handling runs the shutdown hooks and then exits 143, which the kubelet
 * shows as {@code Error}; and a listener closed at once answers the API server's next admission
 * request (still sent here until every API server has seen the endpoint removal, and on a
 * keep-alive connection conntrack keeps pinned to this pod) with EOF, which fails the pod create
 * ({@code failurePolicy: Fail}). So SIGTERM gets a handler of its own: {@code drain} (readiness
 * fails, connections close after their answer, the listeners keep answering), a wait of {@code
 * CAPGATE_SHUTDOWN_DRAIN}, then {@code stop} (JOSDK, informers, listeners) and exit status 0. The
 * shutdown hook stays for every other way out (SIGINT, a lost Lease's exit 1): it stops without a
 * drain, once.
 */
final class GracefulStop {
  private static final Logger LOG = LoggerFactory.getLogger(GracefulStop.class);

  static final String DRAIN_ENV = "CAPGATE_SHUTDOWN_DRAIN";

  /**
   * Long enough for the endpoint removal to reach kube-proxy and the API servers on a loaded node
   * (the chart's former 5 s preStop sleep was not: LifecycleE2E saw EOF); the chart's grace period
   * leaves room for it plus the stop.
   */
  static final String DEFAULT_DRAIN = "15s";

  private final AtomicBoolean stopped = new AtomicBoolean();
  private final Runnable drain;
  private final Runnable stop;
  private final Duration drainFor;

  GracefulStop(Runnable drain, Runnable stop, Duration drainFor) {
    this.drain = drain;
    this.stop = stop;
    this.drainFor = drainFor;
  }

  /** {@code CAPGATE_SHUTDOWN_DRAIN}, a duration such as 15s; 0s stops at once. */
  static Duration drainFrom(Map<String, String> env) {
    String value = env.getOrDefault(DRAIN_ENV, DEFAULT_DRAIN);
    try {
      Duration drain = Durations.parse(value.strip());
      if (drain.isNegative()) {
        throw new IllegalArgumentException("negative");
      }
      return drain;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          DRAIN_ENV + " must be a duration such as 0s, 15s or 1m, got '" + value + "'", e);
    }
  }

  /** Takes over SIGTERM from the JVM and adds the shutdown hook for the other ways out. */
  void install() {
    Signal.handle(new Signal("TERM"), signal -> onTerm());
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopOnce, "capgate-shutdown"));
  }

  /** Runs on the JVM's signal thread: nothing else waits for it. */
  private void onTerm() {
    LOG.info("SIGTERM: draining for {} s, then stopping", drainFor.toSeconds());
    drain.run();
    try {
      Thread.sleep(drainFor);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stopOnce();
    LOG.info("stopped");
    System.exit(0);
  }

  /** The SIGTERM path and then the shutdown hook both call it; the second finds it done. */
  private synchronized void stopOnce() {
    if (stopped.compareAndSet(false, true)) {
      stop.run();
    }
  }
}
