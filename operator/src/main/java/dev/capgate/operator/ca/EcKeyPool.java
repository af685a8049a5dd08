package dev.capgate.operator.ca;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fresh EC P-256 key pairs for the pod CAs, generated ahead of the admission calls that use them
 * (issue 13: the webhook's own CPU is the part of its latency the operator controls, and two key
 * generations were the largest item of a mint). Every pair is handed out once and never kept: a
 * pool is only "keys made a moment earlier", with no reuse. When the pool is empty (a burst longer
 * than its capacity) the caller generates inline, as without a pool.
 *
 * <p>One daemon thread refills it while there is room and otherwise waits: an idle operator spends
 * nothing, and {@link #capacity} pairs are ~a few KiB of heap.
 */
public final class EcKeyPool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EcKeyPool.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final BlockingQueue<KeyPair> ready;
  private final int capacity;
  private final Thread filler;
  private volatile boolean closed;

  private EcKeyPool(int capacity, boolean fill) {
    this.capacity = capacity;
    this.ready = new ArrayBlockingQueue<>(Math.max(1, capacity));
    this.filler =
        fill ? Thread.ofPlatform().daemon().name("capgate-ec-keys").unstarted(this::fill) : null;
  }

  /** A pool of {@code capacity} pairs, filled in the background from now on. */
  public static EcKeyPool started(int capacity) {
    EcKeyPool pool = new EcKeyPool(capacity, capacity > 0);
    if (pool.filler != null) {
      pool.filler.start();
    }
    return pool;
  }

  /** No pool: every pair generated when asked for (tests, one-shot tools). */
  public static EcKeyPool none() {
    return new EcKeyPool(0, false);
  }

  /** A pair no one else has been or will be given. */
  public KeyPair take() {
    KeyPair pair = ready.poll();
    return pair != null ? pair : generate();
  }

  /** Pairs ready now (for tests and metrics). */
  public int available() {
    return ready.size();
  }

  int capacity() {
    return capacity;
  }

  private void fill() {
    while (!closed) {
      try {
        ready.put(generate());
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        // Not expected (P-256 is in every JDK); the callers then generate inline and fail loudly.
        LOG.warn("EC key pool stopped filling: {}", e.toString());
        return;
      }
    }
  }

  static KeyPair generate() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no EC P-256 key generator", e);
    }
  }

  @Override
  public void close() {
    closed = true;
    if (filler != null) {
      filler.interrupt();
    }
    ready.clear();
  }
}
