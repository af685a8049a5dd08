package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import org.junit.jupiter.api.Test;

class GrpcCallTest {

  @Test
  void grpc_calls_are_http2_requests_of_content_type_application_grpc() {
    assertThat(GrpcCall.is(true, headers("application/grpc"))).isTrue();
    assertThat(GrpcCall.is(true, headers("application/grpc+proto"))).isTrue();
    assertThat(GrpcCall.is(true, headers("Application/GRPC; charset=utf-8"))).isTrue();
    assertThat(GrpcCall.is(false, headers("application/grpc"))).as("HTTP/1.1").isFalse();
    assertThat(GrpcCall.is(true, headers("application/grpc-web"))).as("gRPC-Web").isFalse();
    assertThat(GrpcCall.is(true, headers("application/json"))).isFalse();
    assertThat(GrpcCall.is(true, new DefaultHttpHeaders())).isFalse();
  }

  @Test
  void a_denial_is_a_trailers_only_response_in_one_headers_frame_ending_the_stream() {
    FullHttpResponse denial =
        GrpcCall.trailersOnly(
            GrpcCall.PERMISSION_DENIED,
            "capgate: grpc-method-denied: method 'a.B/C' is not allowed by rule 'r' 100%");
    assertThat(denial.status().code()).isEqualTo(200);
    assertThat(denial.content().readableBytes()).isZero();
    assertThat(denial.headers().get("content-type")).isEqualTo("application/grpc");
    assertThat(denial.headers().get("grpc-status")).isEqualTo("7");
    assertThat(denial.headers().get("grpc-message"))
        .isEqualTo("capgate: grpc-method-denied: method 'a.B/C' is not allowed by rule 'r' 100%25");

    // What the agent's HTTP/2 stream codec makes of it: one HEADERS frame with END_STREAM.
    EmbeddedChannel stream = new EmbeddedChannel(new Http2StreamFrameToHttpObjectCodec(true));
    stream.writeOutbound(denial);
    Http2HeadersFrame frame = stream.readOutbound();
    assertThat(frame.isEndStream()).isTrue();
    assertThat(frame.headers().status().toString()).isEqualTo("200");
    assertThat(frame.headers().get("grpc-status").toString()).isEqualTo("7");
    Object more = stream.readOutbound();
    assertThat(more).as("nothing after the HEADERS frame").isNull();
    stream.finishAndReleaseAll();
  }

  @Test
  void grpc_message_is_percent_encoded_as_the_protocol_wants() {
    assertThat(GrpcCall.percentEncode("plain text: ok")).isEqualTo("plain text: ok");
    assertThat(GrpcCall.percentEncode("50% \u00e9\n")).isEqualTo("50%25 %C3%A9%0A");
  }

  @Test
  void http_statuses_map_to_grpc_statuses() {
    assertThat(GrpcCall.statusFor(403)).isEqualTo(7);
    assertThat(GrpcCall.statusFor(503)).as("credential unavailable").isEqualTo(14);
    assertThat(GrpcCall.statusFor(502)).isEqualTo(14);
    assertThat(GrpcCall.statusFor(504)).isEqualTo(14);
    assertThat(GrpcCall.statusFor(429)).isEqualTo(8);
    assertThat(GrpcCall.statusFor(401)).isEqualTo(16);
    assertThat(GrpcCall.statusFor(400)).isEqualTo(13);
    assertThat(GrpcCall.statusName(7)).isEqualTo("PERMISSION_DENIED");
    assertThat(GrpcCall.statusName(14)).isEqualTo("UNAVAILABLE");
    assertThat(GrpcCall.statusName(99)).isEqualTo("99");
  }

  @Test
  void the_status_is_read_from_trailers() {
    HttpHeaders trailers = new DefaultHttpHeaders().set("grpc-status", "0");
    assertThat(GrpcCall.statusOf(trailers)).isZero();
    assertThat(GrpcCall.statusOf(new DefaultHttpHeaders().set("grpc-status", "x"))).isNull();
    assertThat(GrpcCall.statusOf(new DefaultHttpHeaders())).isNull();
  }

  private static HttpHeaders headers(String contentType) {
    return new DefaultHttpHeaders().set("content-type", contentType);
  }
}
