package dev.capgate.sidecar.tls;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * A bounded cache whose values are built off the caller's thread, with at most one build in flight
 * per key: a burst of connections to a new host waits on one leaf mint, not a hundred. A value is
 * rebuilt once stale ({@code staleAt}); a failed build is forgotten so the next caller retries.
 * When full, the entry that goes stale first is evicted (Envoy keeps 1024 mimic certs).
 */
public final class SingleFlightCache<V> {
  private final Map<String, CompletableFuture<V>> entries = new ConcurrentHashMap<>();
  private final Function<String, V> loader;
  private final Function<V, Instant> staleAt;
  private final Executor executor;
  private final Clock clock;
  private final int maxSize;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  public SingleFlightCache(
      Function<String, V> loader,
      Function<V, Instant> staleAt,
      Executor executor,
      Clock clock,
      int maxSize) {
    this.loader = loader;
    this.staleAt = staleAt;
    this.executor = executor;
    this.clock = clock;
    this.maxSize = maxSize;
  }

  /** Never blocks; completes on the executor's thread (or at once on a hit). */
  public CompletableFuture<V> get(String key) {
    CompletableFuture<V> current = entries.get(key);
    if (current != null && !stale(current)) {
      hits.increment();
      return current;
    }
    boolean[] created = {false};
    CompletableFuture<V> future =
        entries.compute(
            key,
            (k, existing) -> {
              if (existing != null && !stale(existing)) {
                return existing;
              }
              created[0] = true;
              return new CompletableFuture<>();
            });
    if (!created[0]) {
      hits.increment();
      return future;
    }
    misses.increment();
    executor.execute(
        () -> {
          try {
            future.complete(loader.apply(key));
          } catch (Throwable t) {
            entries.remove(key, future);
            future.completeExceptionally(t);
          }
        });
    evictIfFull();
    return future;
  }

  public long hits() {
    return hits.sum();
  }

  public long misses() {
    return misses.sum();
  }

  public int size() {
    return entries.size();
  }

  private boolean stale(CompletableFuture<V> future) {
    if (!future.isDone()) {
      return false; // in flight: join it
    }
    if (future.isCompletedExceptionally()) {
      return true;
    }
    return !clock.instant().isBefore(staleAt.apply(future.join()));
  }

  private void evictIfFull() {
    while (entries.size() > maxSize) {
      String victim = null;
      Instant earliest = Instant.MAX;
      for (Map.Entry<String, CompletableFuture<V>> e : entries.entrySet()) {
        CompletableFuture<V> f = e.getValue();
        if (!f.isDone()) {
          continue; // never evict what someone waits for
        }
        Instant at = f.isCompletedExceptionally() ? Instant.MIN : staleAt.apply(f.join());
        if (victim == null || at.isBefore(earliest)) {
          earliest = at;
          victim = e.getKey();
        }
      }
      if (victim == null) {
        return;
      }
      entries.remove(victim);
    }
  }
}
