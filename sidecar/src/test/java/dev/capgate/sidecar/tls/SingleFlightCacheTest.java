package dev.capgate.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SingleFlightCacheTest {
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  @Test
  void concurrent_misses_on_one_key_build_once() throws Exception {
    AtomicInteger builds = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    SingleFlightCache<String> cache =
        new SingleFlightCache<>(
            key -> {
              builds.incrementAndGet();
              await(release);
              return "leaf for " + key;
            },
            v -> Instant.MAX,
            executor,
            Clock.systemUTC(),
            10);
    List<CompletableFuture<String>> waiting = new ArrayList<>();
    List<Thread> callers = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      callers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    synchronized (waiting) {
                      waiting.add(cache.get("api.github.test"));
                    }
                  }));
    }
    for (Thread t : callers) {
      t.join();
    }
    release.countDown();
    for (CompletableFuture<String> f : waiting) {
      assertThat(f.get(5, TimeUnit.SECONDS)).isEqualTo("leaf for api.github.test");
    }
    assertThat(builds).hasValue(1);
    assertThat(cache.misses()).isEqualTo(1);
    assertThat(cache.hits()).isEqualTo(31);
  }

  @Test
  void a_failed_build_is_retried_by_the_next_caller() throws Exception {
    AtomicInteger builds = new AtomicInteger();
    SingleFlightCache<String> cache =
        new SingleFlightCache<>(
            key -> {
              if (builds.incrementAndGet() == 1) {
                throw new IllegalStateException("first mint fails");
              }
              return "ok";
            },
            v -> Instant.MAX,
            executor,
            Clock.systemUTC(),
            10);
    assertThat(cache.get("k")).failsWithin(5, TimeUnit.SECONDS);
    assertThat(cache.get("k").get(5, TimeUnit.SECONDS)).isEqualTo("ok");
  }

  @Test
  void a_stale_value_is_rebuilt() throws Exception {
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2030-01-01T00:00:00Z"));
    Clock clock =
        new Clock() {
          @Override
          public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }

          @Override
          public Instant instant() {
            return now.get();
          }
        };
    AtomicInteger builds = new AtomicInteger();
    SingleFlightCache<Integer> cache =
        new SingleFlightCache<>(
            key -> builds.incrementAndGet(),
            v -> Instant.parse("2030-01-01T12:00:00Z"),
            executor,
            clock,
            10);
    assertThat(cache.get("k").get(5, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(cache.get("k").get(5, TimeUnit.SECONDS)).isEqualTo(1);
    now.set(Instant.parse("2030-01-01T12:00:01Z"));
    assertThat(cache.get("k").get(5, TimeUnit.SECONDS)).isEqualTo(2);
  }

  @Test
  void the_cache_stays_within_its_bound() throws Exception {
    SingleFlightCache<String> cache =
        new SingleFlightCache<>(key -> key, v -> Instant.MAX, Runnable::run, Clock.systemUTC(), 4);
    for (int i = 0; i < 20; i++) {
      cache.get("host" + i).get(1, TimeUnit.SECONDS);
    }
    assertThat(cache.size()).isLessThanOrEqualTo(4);
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
