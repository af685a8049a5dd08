package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class HopByHopTest {
  @Test
  void hop_by_hop_and_connection_named_headers_stay_behind() {
    HttpHeaders agent =
        new DefaultHttpHeaders()
            .add("Host", "api.github.test")
            .add("Connection", "keep-alive, X-Secret-Hop")
            .add("X-Secret-Hop", "1")
            .add("Keep-Alive", "timeout=5")
            .add("Transfer-Encoding", "chunked")
            .add("Content-Length", "5")
            .add("Proxy-Authorization", "Basic eA==")
            .add("TE", "trailers")
            .add("Upgrade", "h2c")
            .add("x-http2-scheme", "https")
            .add("Expect", "100-continue")
            .add("Accept", "application/json")
            .add("X-Request-Id", "abc");
    HttpHeaders forwarded = new DefaultHttpHeaders();
    HopByHop.copyEndToEnd(agent, forwarded);
    assertThat(forwarded.names()).containsExactlyInAnyOrder("Accept", "X-Request-Id");
  }
}
