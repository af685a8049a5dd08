package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.footprint.ExchangeActivity;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The idle rule on Netty's own event loop with its clock frozen: a connection without an exchange
 * in flight is closed after the idle timeout, one with an exchange is not however long it is quiet,
 * and once that exchange ends the period counts from the connection's last I/O. Every exchange is
 * also counted sidecar-wide (what the idle heap release looks at).
 */
class IdleCloseTest {
  private static final Duration IDLE = Duration.ofSeconds(10);

  private final ExchangeActivity activity = new ExchangeActivity();
  private final IdleClose idle = new IdleClose(IDLE, activity);
  private final EmbeddedChannel connection = frozen(idle);

  private static EmbeddedChannel frozen(IdleClose idle) {
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.freezeTime();
    channel.pipeline().addLast(idle);
    return channel;
  }

  private void after(Duration d) {
    connection.advanceTimeBy(d.toMillis(), TimeUnit.MILLISECONDS);
    connection.runPendingTasks();
  }

  @Test
  void aConnectionWithNoExchangeIsClosedAfterTheIdleTimeout() {
    after(IDLE.minusMillis(1));
    assertThat(connection.isOpen()).isTrue();
    after(Duration.ofMillis(1));
    assertThat(connection.isOpen()).isFalse();
  }

  @Test
  void anExchangeInFlightKeepsAQuietConnectionOpen() {
    idle.exchangeStarted();
    after(IDLE.multipliedBy(30)); // a slow upstream, a held approval: no I/O meanwhile
    assertThat(connection.isOpen()).isTrue();
  }

  @Test
  void theIdlePeriodCountsFromTheLastResponseOnceNoExchangeIsInFlight() {
    idle.exchangeStarted();
    idle.exchangeStarted(); // two HTTP/2 streams
    assertThat(activity.inFlight()).isEqualTo(2);
    after(IDLE.multipliedBy(3).plusSeconds(4));
    idle.exchangeEnded();
    connection.writeOutbound(Unpooled.wrappedBuffer(new byte[] {1})); // the first one's response
    after(IDLE.multipliedBy(2));
    assertThat(connection.isOpen()).as("the second stream is still in flight").isTrue();
    idle.exchangeEnded();
    connection.writeOutbound(Unpooled.wrappedBuffer(new byte[] {2})); // the second one's response
    after(IDLE.minusMillis(1));
    assertThat(connection.isOpen()).isTrue();
    after(Duration.ofMillis(1));
    assertThat(connection.isOpen()).isFalse();
    assertThat(idle.inFlight()).isZero();
    assertThat(activity.inFlight()).isZero();
    assertThat(activity.startedTotal()).isEqualTo(2);
    connection.finishAndReleaseAll();
  }
}
