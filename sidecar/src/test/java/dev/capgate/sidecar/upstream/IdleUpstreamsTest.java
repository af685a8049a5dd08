package dev.capgate.sidecar.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

class IdleUpstreamsTest {
  private static UpstreamLink link(String host) {
    UpstreamLink link = new UpstreamLink(host, 443, true);
    new EmbeddedChannel(link); // the link learns its channel when added
    return link;
  }

  @Test
  void aLaterRequestTakesTheMostRecentLinkToItsTargetAndLeavesTheOthers() {
    IdleUpstreams pool = new IdleUpstreams(8);
    UpstreamLink older = link("a.test");
    UpstreamLink other = link("b.test");
    UpstreamLink newer = link("a.test");
    pool.put(older);
    pool.put(other);
    pool.put(newer);

    assertThat(pool.take("a.test", 443, true)).isSameAs(newer);
    assertThat(pool.take("a.test", 443, true)).isSameAs(older);
    assertThat(pool.take("a.test", 443, true)).isNull();
    assertThat(pool.take("a.test", 443, false)).as("plain is another target").isNull();
    assertThat(other.channel().isActive()).as("a link to another target stays").isTrue();
    assertThat(pool.take("b.test", 443, true)).isSameAs(other);
  }

  @Test
  void aLinkIdleLongerThanServersKeepThemIsClosedNotTaken() {
    IdleUpstreams pool = new IdleUpstreams(8);
    UpstreamLink link = link("a.test");
    pool.put(link);
    link.idleSince(System.nanoTime() - IdleUpstreams.MAX_IDLE_NANOS - 1);

    assertThat(pool.take("a.test", 443, true)).isNull();
    assertThat(link.channel().isActive()).isFalse();
    assertThat(pool.size()).isZero();
  }

  @Test
  void theSweepClosesLinksIdleTooLongAndKeepsTheRest() {
    IdleUpstreams pool = new IdleUpstreams(8);
    UpstreamLink old = link("a.test");
    UpstreamLink fresh = link("a.test");
    pool.put(old);
    pool.put(fresh);
    old.idleSince(System.nanoTime() - IdleUpstreams.MAX_IDLE_NANOS - 1);

    pool.closeStale();

    assertThat(old.channel().isActive()).isFalse();
    assertThat(pool.size()).isEqualTo(1);
    assertThat(pool.take("a.test", 443, true)).isSameAs(fresh);
  }

  @Test
  void aLinkTheUpstreamClosedIsNotTaken() {
    IdleUpstreams pool = new IdleUpstreams(8);
    UpstreamLink link = link("a.test");
    pool.put(link);
    link.channel().close();

    assertThat(pool.take("a.test", 443, true)).isNull();
  }

  @Test
  void beyondCapacityTheLeastRecentlyUsedIsClosed() {
    IdleUpstreams pool = new IdleUpstreams(2);
    UpstreamLink first = link("a.test");
    UpstreamLink second = link("b.test");
    UpstreamLink third = link("c.test");
    pool.put(first);
    pool.put(second);
    pool.put(third);

    assertThat(first.channel().isActive()).isFalse();
    assertThat(pool.size()).isEqualTo(2);
    assertThat(pool.take("c.test", 443, true)).isSameAs(third);
  }

  @Test
  void anHttp2StreamIsNeverKept() {
    IdleUpstreams pool = new IdleUpstreams(8);
    UpstreamLink stream = new UpstreamLink("a.test", 443, true, true);
    new EmbeddedChannel(stream);
    pool.put(stream);

    assertThat(pool.size()).isZero();
    assertThat(stream.channel().isActive()).isFalse();
  }
}
