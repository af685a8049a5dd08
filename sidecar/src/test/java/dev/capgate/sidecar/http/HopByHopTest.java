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

  @Test
  void names_match_in_any_letter_case_and_the_edge_fields_stay_behind_on_requests() {
    HttpHeaders agent =
        new DefaultHttpHeaders()
            .add("CONNECTION", "Keep-Alive, x-SECRET-hop")
            .add("x-secret-HOP", "1")
            .add("kEeP-aLiVe", "timeout=5")
            .add("X-HTTP2-Stream-Id", "3")
            .add("X-Forwarded-For", "10.0.0.1")
            .add("x-forwarded-", "empty suffix")
            .add("FORWARDED", "for=10.0.0.1")
            .add("X-Real-IP", "10.0.0.1")
            .add("X-Forwarded", "not an edge field")
            .add("Authorization", "Bearer agent-own")
            .add("Accept", "text/plain")
            .add("Accept", "application/json");
    HttpHeaders request = new DefaultHttpHeaders();
    HopByHop.copyRequestHeaders(agent, request);
    assertThat(request.names()).containsExactlyInAnyOrder("X-Forwarded", "Authorization", "Accept");
    assertThat(request.getAll("accept")).containsExactly("text/plain", "application/json");

    HttpHeaders response = new DefaultHttpHeaders();
    HopByHop.copyEndToEnd(agent, response);
    assertThat(response.names())
        .containsExactlyInAnyOrder(
            "X-Forwarded-For",
            "x-forwarded-",
            "FORWARDED",
            "X-Real-IP",
            "X-Forwarded",
            "Authorization",
            "Accept");
  }
}
