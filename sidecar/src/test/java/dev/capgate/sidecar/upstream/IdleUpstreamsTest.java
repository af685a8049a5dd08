package dev.capgate.sidecar.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/**
 * The idle pool of upstream links, on embedded channels: every link goes to port 443 over TLS, so a
 * target is its host; a pool of eight unless a test sizes its own.
 */
class IdleUpstreamsTest {
  private IdleUpstreams pool = new IdleUpstreams(8);

  private static UpstreamLink link(String host) {
    return attached(new UpstreamLink(host, 443, true));
  }

  /** The link learns its channel when added to one. */
  private static UpstreamLink attached(UpstreamLink link) {
    new EmbeddedChannel(link);
    return link;
  }

  /** A new link to {@code host}, put in the pool. */
  private UpstreamLink pooled(String host) {
    UpstreamLink link = link(host);
    pool.put(link);
    return link;
  }

  private UpstreamLink take(String host) {
    return pool.take(host, 443, true);
  }

  @Test
  void aLaterRequestTakesTheMostRecentLinkToItsTargetAndLeavesTheOthers() {
    UpstreamLink older = pooled("a.test");
    UpstreamLink other = pooled("b.test");
    UpstreamLink newer = pooled("a.test");

    assertThat(take("a.test")).isSameAs(newer);
    assertThat(take("a.test")).isSameAs(older);
    assertThat(take("a.test")).isNull();
    assertThat(pool.take("a.test", 443, false)).as("plain is another target").isNull();
    assertThat(other.channel().isActive()).as("a link to another target stays").isTrue();
    assertThat(take("b.test")).isSameAs(other);
  }

  @Test
  void aLinkIdleLongerThanServersKeepThemIsClosedNotTaken() {
    UpstreamLink link = pooled("a.test");
    link.idleSince(System.nanoTime() - IdleUpstreams.MAX_IDLE_NANOS - 1);

    assertThat(take("a.test")).isNull();
    assertThat(link.channel().isActive()).isFalse();
    assertThat(pool.size()).isZero();
  }

  @Test
  void theSweepClosesLinksIdleTooLongAndKeepsTheRest() {
    UpstreamLink old = pooled("a.test");
    UpstreamLink fresh = pooled("a.test");
    old.idleSince(System.nanoTime() - IdleUpstreams.MAX_IDLE_NANOS - 1);

    pool.closeStale();

    assertThat(old.channel().isActive()).isFalse();
    assertThat(pool.size()).isEqualTo(1);
    assertThat(take("a.test")).isSameAs(fresh);
  }

  @Test
  void aLinkTheUpstreamClosedIsNotTaken() {
    pooled("a.test").channel().close();

    assertThat(take("a.test")).isNull();
  }

  @Test
  void beyondCapacityTheLeastRecentlyUsedIsClosed() {
    pool = new IdleUpstreams(2);
    UpstreamLink first = pooled("a.test");
    pooled("b.test");
    UpstreamLink third = pooled("c.test");

    assertThat(first.channel().isActive()).isFalse();
    assertThat(pool.size()).isEqualTo(2);
    assertThat(take("c.test")).isSameAs(third);
  }

  @Test
  void anHttp2StreamIsNeverKept() {
    UpstreamLink stream = attached(new UpstreamLink("a.test", 443, true, true));
    pool.put(stream);

    assertThat(pool.size()).isZero();
    assertThat(stream.channel().isActive()).isFalse();
  }
}
