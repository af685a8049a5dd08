package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.credentials.InjectedHeader;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestTrailersTest {
  private static final List<InjectedHeader> INJECTS_API_KEY =
      List.of(new InjectedHeader("X-Api-Key", "k"));

  @Test
  void auth_framing_routing_and_injected_fields_are_dropped_and_named() {
    HttpHeaders trailers =
        new DefaultHttpHeaders()
            .add("Authorization", "Bearer agent-made-this-up")
            .add("cookie", "a=b")
            .add("Host", "evil.test")
            .add("Content-Length", "0")
            .add("Transfer-Encoding", "chunked")
            .add("Content-Type", "text/plain")
            .add("X-Forwarded-For", "10.0.0.1")
            .add("X-HTTP-Method-Override", "DELETE")
            .add("x-api-key", "agent-guess")
            .add("x-checksum-sha256", "abc")
            .add("grpc-status", "0");
    List<String> dropped = new ArrayList<>();
    HttpHeaders kept = RequestTrailers.filter(trailers, INJECTS_API_KEY, dropped);
    assertThat(kept.names()).containsExactlyInAnyOrder("x-checksum-sha256", "grpc-status");
    assertThat(dropped)
        .containsExactly(
            "authorization",
            "cookie",
            "host",
            "content-length",
            "transfer-encoding",
            "content-type",
            "x-forwarded-*",
            "x-http-method-override",
            "x-api-key");
  }

  @Test
  void harmless_trailers_pass_as_they_are() {
    HttpHeaders trailers = new DefaultHttpHeaders().add("x-checksum-sha256", "abc");
    assertThat(RequestTrailers.filter(trailers, INJECTS_API_KEY)).isSameAs(trailers);
  }
}
