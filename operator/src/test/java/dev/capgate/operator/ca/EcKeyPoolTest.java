package dev.capgate.operator.ca;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The webhook's pre-generated keys: P-256, each handed out once, and never a shortage. */
class EcKeyPoolTest {

  @Test
  void fillsInTheBackgroundAndHandsEachPairOutOnce() throws Exception {
    try (EcKeyPool pool = EcKeyPool.started(4)) {
      awaitFull(pool);
      Set<Object> seen = new HashSet<>();
      // Four from the pool, then more than it holds: the rest generated inline or refilled.
      for (int i = 0; i < 12; i++) {
        KeyPair pair = pool.take();
        assertThat(
                ((ECPublicKey) pair.getPublic()).getParams().getCurve().getField().getFieldSize())
            .isEqualTo(256);
        assertThat(seen.add(pair.getPublic())).as("pair %d is new", i).isTrue();
        assertThat(seen.add(pair.getPrivate())).isTrue();
      }
    }
  }

  @Test
  void withoutAPoolEveryPairIsGeneratedWhenAsked() {
    EcKeyPool none = EcKeyPool.none();
    assertThat(none.available()).isZero();
    assertThat(none.take().getPublic()).isNotEqualTo(none.take().getPublic());
  }

  @Test
  void mintsFromThePoolNeverShareAKey() throws Exception {
    try (EcKeyPool pool = EcKeyPool.started(4)) {
      awaitFull(pool);
      PodCaMinter minter = new PodCaMinter(Clock.systemUTC(), Duration.ofHours(1), pool);
      Set<Object> keys = new HashSet<>();
      for (int i = 0; i < 4; i++) {
        MintedCa ca = minter.mint("capgate-ca-pool-" + i, List.of("api.github.com"), null);
        // Root and signing CA of one pod differ, and no two pods share either.
        assertThat(keys.add(ca.root().getPublicKey())).isTrue();
        assertThat(keys.add(ca.certificate().getPublicKey())).isTrue();
        ca.certificate().verify(ca.root().getPublicKey());
      }
    }
  }

  private static void awaitFull(EcKeyPool pool) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (pool.available() < pool.capacity() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(pool.available()).isEqualTo(pool.capacity());
  }
}
